"""The control node's end of one far-side process (see migdoctor/farside/server.py): requests
written as JSON lines, answers read by one thread and handed to whoever waits for them."""

from __future__ import annotations

import collections
import contextlib
import itertools
import json
import queue
import subprocess
import threading
from collections.abc import Callable, Iterator
from importlib import resources
from typing import Any

from migdoctor.transports.errors import TransportError

START_TIMEOUT_S = 20.0
CALL_TIMEOUT_S = 120.0
BOOT_GREETING = b"migdoctor-far-side "
ENDED = {"ended": True}  # what waiters get when the far side is gone


class FarSide:
    """One far-side process. `bundle` (given when the host has no migdoctor) is called with the
    far interpreter's bytecode magic and version and returns the zip sent after the boot stage.
    `spawned` is called once the process runs, before its answers are awaited; `answering` once
    its first line came (the connection carrying it is up), before the rest of its start."""

    def __init__(
        self,
        label: str,
        argv: list[str],
        explain_end: Callable[[int, str], str],
        bundle: Callable[[bytes, tuple[int, int]], bytes] | None = None,
        spawned: Callable[[], None] = lambda: None,
        answering: Callable[[], None] = lambda: None,
    ) -> None:
        self.label = label
        self.explain_end = explain_end
        self.pending: dict[int, queue.Queue[dict[str, Any]]] = {}
        self.startup: queue.Queue[bytes] = queue.Queue()
        self.ids = itertools.count(1)
        self.write_lock = threading.Lock()
        self.stderr_tail: collections.deque[str] = collections.deque(maxlen=20)
        self.ended: str | None = None
        try:
            self.process = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        except FileNotFoundError as exc:
            raise TransportError(f"{label}: {exc.filename} is not installed here") from None
        threading.Thread(target=self.read_stderr, daemon=True).start()
        threading.Thread(target=self.read_answers, daemon=True).start()
        spawned()
        try:
            first = self.first_line()
            answering()
            if bundle is not None:
                self.write(boot_input(self.label, first, bundle))
                first = self.first_line()
            self.ready: dict[str, Any] = self.hello(first)
        except BaseException:
            self.close()
            raise

    def hello(self, line: bytes) -> dict[str, Any]:
        """The far side's first answer; anything else (a wrapper's output, another program named
        as remote_command) is refused by name, never parsed further."""
        try:
            ready = json.loads(line)["ready"]
        except (ValueError, TypeError, KeyError):
            ready = None
        if not isinstance(ready, dict):
            raise TransportError(f"{self.label}: the far side did not answer as migdoctor's: {line[:60]!r}")
        return ready

    def first_line(self) -> bytes:
        try:
            line = self.startup.get(timeout=START_TIMEOUT_S)
        except queue.Empty:
            raise TransportError(f"{self.label}: the far side did not start within {START_TIMEOUT_S:.0f} s") from None
        if not line:
            raise TransportError(self.end_reason())
        return line

    def read_stderr(self) -> None:
        assert self.process.stderr is not None
        for raw in self.process.stderr:
            self.stderr_tail.append(raw.decode(errors="replace").rstrip())

    def read_answers(self) -> None:
        assert self.process.stdout is not None
        for raw in self.process.stdout:
            if not raw.startswith(b'{"id"'):
                self.startup.put(raw)
                continue
            try:
                answer = decoded(self.label, raw)
            except TransportError as exc:  # the waiters learn why, not "no answer" minutes later
                self.ended = str(exc)
                self.process.kill()
                break
            waiting = self.pending.get(answer["id"])
            if waiting is not None:
                waiting.put(answer)
        self.ended = self.ended or self.end_reason()
        self.startup.put(b"")
        for waiting in list(self.pending.values()):
            waiting.put(ENDED)

    def end_reason(self) -> str:
        try:
            status = self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            status = -1
        threading.Event().wait(0.05)  # stderr's last line arrives after stdout's end
        return self.explain_end(status, "\n".join(self.stderr_tail))

    def write(self, data: bytes) -> None:
        assert self.process.stdin is not None
        try:
            with self.write_lock:
                self.process.stdin.write(data)
                self.process.stdin.flush()
        except (BrokenPipeError, ValueError):
            raise TransportError(self.ended or self.end_reason()) from None

    def send(self, message: dict[str, Any]) -> None:
        self.write((json.dumps(message) + "\n").encode())

    def request(self, name: str, args: dict[str, Any]) -> tuple[int, queue.Queue[dict[str, Any]]]:
        ident = next(self.ids)
        answers: queue.Queue[dict[str, Any]] = queue.Queue()
        self.pending[ident] = answers
        if self.ended:
            raise TransportError(self.ended)
        self.send({"id": ident, "call": name, "args": args})
        return ident, answers

    def answer(self, name: str, message: dict[str, Any]) -> dict[str, Any]:
        if message is ENDED:
            raise TransportError(self.ended or f"{self.label}: the far side ended")
        if "error" in message:
            raise TransportError(f"{self.label}: far-side {name!r} failed: {message['error']}")
        return message

    def call(self, name: str, /, **args: Any) -> Any:
        ident, answers = self.request(name, args)
        try:
            return self.answer(name, answers.get(timeout=CALL_TIMEOUT_S))["result"]
        except queue.Empty:
            raise TransportError(f"{self.label}: no answer to {name!r} after {CALL_TIMEOUT_S:.0f} s") from None
        finally:
            self.pending.pop(ident, None)

    def stream(self, name: str, /, **args: Any) -> Stream:
        ident, answers = self.request(name, args)
        return Stream(self, name, ident, answers)

    def hang_up(self) -> None:
        """End of the run: stdin closes, the far side removes what it wrote and exits."""
        if self.process.stdin:
            with contextlib.suppress(OSError):
                self.process.stdin.close()

    def close(self) -> None:
        self.hang_up()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def decoded(label: str, raw: bytes | str) -> dict[str, Any]:
    """One far-side answer line; TransportError naming LABEL when it is not JSON this side reads
    (a host's answer nested a thousand deep breaks json's recursion)."""
    try:
        answer: dict[str, Any] = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise TransportError(f"{label}: the far side's answer is not JSON migdoctor reads ({exc})") from None
    return answer


def boot_input(label: str, greeting: bytes, bundle: Callable[[bytes, tuple[int, int]], bytes]) -> bytes:
    """What the first stage reads after its GREETING (the host's bytecode magic and Python
    version): the second stage and the bundle built for that interpreter."""
    if not greeting.startswith(BOOT_GREETING):
        raise TransportError(f"{label}: unexpected far-side greeting {greeting[:60]!r}")
    magic, version = greeting[len(BOOT_GREETING) :].decode().split()
    major, minor = version.split(".")
    boot = (resources.files("migdoctor.farside") / "boot.py").read_bytes()
    data = bundle(bytes.fromhex(magic), (int(major), int(minor)))
    return b"%d\n%s%d\n%s" % (len(boot), boot, len(data), data)


class Stream:
    """Items of one streaming far-side command, until it ends or `close` cancels it."""

    def __init__(self, far_side: FarSide, name: str, ident: int, answers: queue.Queue[dict[str, Any]]) -> None:
        self.far_side, self.name, self.ident, self.answers = far_side, name, ident, answers
        self.done = False

    def next(self, timeout: float) -> Any | None:
        """The next item; None when the stream ended or nothing came within TIMEOUT."""
        if self.done:
            return None
        try:
            message = self.far_side.answer(self.name, self.answers.get(timeout=timeout))
        except queue.Empty:
            return None
        if message.get("end"):
            self.done = True
            return None
        return message["item"]

    def __enter__(self) -> Stream:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def __iter__(self) -> Iterator[Any]:
        while (item := self.next(CALL_TIMEOUT_S)) is not None:
            yield item

    def close(self) -> None:
        if not self.done and not self.far_side.ended:
            with contextlib.suppress(TransportError):
                self.far_side.send({"cancel": self.ident})
        self.far_side.pending.pop(self.ident, None)
