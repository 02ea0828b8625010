"""Running code migdoctor does not control (third-party checks) so that nothing it does can end,
hang or corrupt the run: the code runs in a forked worker process with a time budget per task
(the facts it gets are read-only: migdoctor/frozen.py).

Why a process and not a thread: a thread cannot be killed in Python, and code stuck in one C call
(`sum(range(10**12))`) holds the interpreter and never returns to it, so a watchdog thread could
not even notice. A worker process can be killed: the task that overran becomes a `Lost` result
and a fresh worker (forked again, so it starts from the same state) takes the remaining tasks.
"""

from __future__ import annotations

import contextlib
import fcntl
import gc
import math
import multiprocessing
import os
import pickle
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

FORK = multiprocessing.get_context("fork")
PIPE_BYTES = 1 << 20  # fs.pipe-max-size's default
STOP_POLL_S = 0.1  # how soon a worker waiting on a slow task notices it is stopped


@dataclass(frozen=True)
class Lost:
    """A task whose result never came back: why (over budget, its worker died)."""

    reason: str


class Stopped(Exception):
    """The caller stopped waiting for the remaining tasks (Ctrl-C reached another thread)."""


def isolated(
    tasks: Sequence[Callable[[], Any]], budget_s: float, stop: threading.Event | None = None, batch_s: float = 0.0
) -> list[Any]:
    """Each task's result, in order, run in forked workers; a task that overruns BUDGET_S or
    ends its worker gives a Lost. Ctrl-C in the parent, or STOP set by another thread, kills the
    worker and propagates (Stopped). With BATCH_S, a worker hands its results over together at most
    that often (a fleet's tens of thousands, each a wake-up here otherwise); a worker lost while it
    held results back runs them again one by one, so the Lost still names the task to blame."""
    results: list[Any] = []
    holding = batch_s
    while len(results) < len(tasks):
        reader, writer = FORK.Pipe(duplex=False)
        if holding:
            widened(writer)
        worker = FORK.Process(target=_serve, args=(tasks[len(results) :], writer, budget_s, holding), daemon=True)
        lost = None
        try:
            with interrupts_held():
                worker.start()
            writer.close()
            while len(results) < len(tasks):
                if not answered(reader, budget_s, stop):
                    lost = Lost(f"ran longer than its {budget_s:g} s budget and was stopped")
                    break
                try:
                    results.extend(pickle.loads(result) for result in reader.recv())
                except EOFError:
                    worker.join(1)
                    lost = Lost(f"ended its worker process ({_exit_reason(worker.exitcode)})")
                    break
        finally:
            if worker.pid is not None:
                if worker.is_alive():
                    worker.kill()
                worker.join()
            writer.close()
            reader.close()
        if lost is not None and not holding:
            results.append(lost)
        holding = 0.0 if lost is not None and holding else batch_s
    return results


def widened(writer: Any) -> None:
    """A worker's batch (a fleet's judged pairs, about a megabyte) fits the pipe whole, so the
    worker goes on judging instead of waiting while the parent reads it 64 KiB at a time."""
    with contextlib.suppress(OSError):  # the size is capped by fs.pipe-max-size; the default still works
        fcntl.fcntl(writer.fileno(), fcntl.F_SETPIPE_SZ, PIPE_BYTES)


def answered(reader: Any, budget_s: float, stop: threading.Event | None) -> bool:
    """Whether the worker's next answer came within BUDGET_S; Stopped as soon as STOP is set."""
    deadline = time.monotonic() + budget_s
    while stop is None or not stop.is_set():
        wait = deadline - time.monotonic()
        if reader.poll(max(0.0, wait if stop is None else min(wait, STOP_POLL_S))):
            return True
        if time.monotonic() >= deadline:
            return False
    raise Stopped("stopped while tasks were left")


@contextmanager
def interrupts_held() -> Iterator[None]:
    """Ctrl-C held back until the block ends: raised inside Process.start() it would leave a child
    running that the parent holds no handle of. Only the main thread ever gets KeyboardInterrupt."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    held: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, _frame: held.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        if held:
            signal.raise_signal(signal.SIGINT)  # now handled as it would have been


def _exit_reason(code: int | None) -> str:
    if code is None:
        return "still running"
    if code < 0:
        return f"killed by {signal.Signals(-code).name}"
    return f"exit status {code}"


def _serve(tasks: Sequence[Callable[[], Any]], writer: Any, budget_s: float, batch_s: float) -> None:
    """In the worker: Ctrl-C is the parent's to handle; what tasks print must not reach the report
    on stdout; an alarm ends the worker even if its parent is gone (killed). What the worker
    inherits is left out of garbage collection (gc.freeze): tasks make no cycles with it, and
    scanning a fleet's facts again and again cost a quarter of the judging. Results go over
    pickled one by one, so one that cannot be is that task's Lost, not the batch's."""
    gc.freeze()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGALRM, signal.SIG_DFL)
    signal.alarm(math.ceil(budget_s * len(tasks)) + 5)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    sys.stdout = sys.stderr = open(devnull, "w", closefd=False)  # noqa: SIM115 - the worker's for life
    held: list[bytes] = []
    sent = time.monotonic()
    for task in tasks:
        result = task()
        try:
            held.append(pickle.dumps(result))
        except Exception as exc:  # noqa: BLE001 - an unsendable result is that task's failure
            held.append(pickle.dumps(Lost(f"its result cannot be handed back: {type(exc).__name__}: {exc}")))
        if time.monotonic() - sent >= batch_s:
            writer.send(held)
            held, sent = [], time.monotonic()
    if held:
        writer.send(held)
