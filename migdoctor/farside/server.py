"""The far side's request loop: one JSON object per line each way. A request is
{"id", "call", "args"}; the answer is {"id", "result"} or {"id", "error"}, a stream answers
{"id", "item"} lines then {"id", "end"}, and {"cancel": id} ends a stream. Each request runs in
its own thread, so a probe listener can wait while facts are collected. When stdin closes (the
control node finished, or died and its ssh with it) the process removes what it wrote and exits."""

from __future__ import annotations

import json
import os
import sys
import threading
from typing import Any, BinaryIO, NoReturn

from migdoctor import __version__
from migdoctor.farside import commands

ANSWER_ALL = "--answer-all"  # the far side's argument for serve(answer_all=True)


class Channel:
    """The control node's end: whole lines only, whichever thread writes."""

    def __init__(self, out: BinaryIO) -> None:
        self.out = out
        self.lock = threading.Lock()

    def send(self, message: dict[str, Any]) -> None:
        line = (json.dumps(message) + "\n").encode()  # "id" first: the control node sorts by it
        with self.lock:
            self.out.write(line)
            self.out.flush()


def handle(channel: Channel, request: dict[str, Any], cancelled: threading.Event) -> None:
    ident, name = request["id"], request["call"]
    try:
        found = commands.COMMANDS.get(name)
        if found is None:
            raise LookupError(f"no far-side command {name!r} in migdoctor {__version__}")
        if found.streams:
            for item in found.function(cancelled, **request.get("args", {})):
                channel.send({"id": ident, "item": item})
            channel.send({"id": ident, "end": True})
        else:
            channel.send({"id": ident, "result": found.function(**request.get("args", {}))})
    except Exception as exc:  # noqa: BLE001 - every failure is an answer naming it, never a dead far side
        channel.send({"id": ident, "error": f"{type(exc).__name__}: {exc}"})


def hello() -> dict[str, Any]:
    """Who and what answers: the control node names these in gaps (not root) and errors."""
    return {
        "version": __version__,
        "python": ".".join(map(str, sys.version_info[:3])),
        "executable": sys.executable,
        "uid": os.geteuid(),
        "pid": os.getpid(),
    }


def serve(answer_all: bool = False) -> None:
    """Serve until stdin closes, then end (see leave). ANSWER_ALL: for a caller that sends all its input at once and
    reads the output when the process has ended (an Ansible connection), stdin's end is not a
    hang-up: every request is answered first."""
    channel = Channel(sys.stdout.buffer)
    sys.stdout = sys.stderr  # a stray print must not break the protocol
    cancels: dict[int, threading.Event] = {}
    workers: list[threading.Thread] = []  # kept only to ANSWER_ALL
    channel.send({"ready": hello()})
    try:
        for raw in sys.stdin.buffer:
            request = json.loads(raw)
            if "cancel" in request:
                cancels.get(request["cancel"], threading.Event()).set()
                continue
            cancels[request["id"]] = threading.Event()
            worker = threading.Thread(target=handle, args=(channel, request, cancels[request["id"]]), daemon=True)
            worker.start()
            if answer_all:
                workers.append(worker)
        for worker in workers:
            worker.join()
    finally:
        for event in cancels.values():
            event.set()
        commands.remove_leftovers()
    leave(channel)


def leave(channel: Channel) -> NoReturn:
    """End the process without the interpreter's shutdown. A worker that has just answered may
    still hold stdout's lock, its write done, when shutdown flushes stdout: CPython then waits a
    second and aborts ("could not acquire lock ... at interpreter shutdown, possibly due to daemon
    threads"), a crash on the host. Holding the channel's lock, no answer is half-written."""
    with channel.lock:
        channel.out.flush()
        sys.stderr.flush()
        os._exit(0)
