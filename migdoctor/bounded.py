"""Waiting for what may never answer (a getaddrinfo with a dead nameserver, a libvirt call or a
command to a host that dropped off the network) for a bounded time, then going on without it.

Daemon threads, not a thread pool: a blocked call cannot be cancelled, and the process must stay
free to exit (and answer its caller) without waiting for it; a pool's threads are joined at exit."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

NO_ANSWER = "no answer within"


def within(budget_s: float, jobs: list[Callable[[], Any]], late: Callable[[int], Any]) -> list[Any]:
    """Every job's result, all run at once; a job still running after BUDGET_S gives late(index)."""
    results: list[Any] = [None] * len(jobs)
    done = [threading.Event() for _ in jobs]

    def run(index: int) -> None:
        results[index] = jobs[index]()
        done[index].set()

    for index in range(len(jobs)):
        threading.Thread(target=run, args=(index,), daemon=True).start()
    deadline = time.monotonic() + budget_s
    for index, event in enumerate(done):
        if not event.wait(max(0.0, deadline - time.monotonic())):
            results[index] = late(index)
    return results


def attempt(
    budget_s: float, action: Callable[[], Any], describe: Callable[[Exception], str] = str
) -> tuple[Any, str | None]:
    """(ACTION's result, None), or (None, why it failed or that it did not finish in BUDGET_S)."""

    def captured() -> tuple[Any, str | None]:
        try:
            return action(), None
        except Exception as exc:  # noqa: BLE001 - the caller reports it; nothing may escape a clean-up
            return None, describe(exc)

    return within(budget_s, [captured], lambda _: (None, f"{NO_ANSWER} {budget_s:g} s"))[0]


MAX_INPUT_BYTES = 64 * 1024 * 1024


def read_input(path: str | Path) -> str:
    """A file an admin named as input (saved facts, a report, an inventory): at most 64 MiB of
    UTF-8 text, so /dev/zero or a binary named by mistake is a one-line error (ValueError, or
    OSError when unreadable), not a hang or a crash."""
    with open(path, "rb") as handle:
        data = handle.read(MAX_INPUT_BYTES + 1)
    if len(data) > MAX_INPUT_BYTES:
        raise ValueError(f"larger than {MAX_INPUT_BYTES // 2**20} MiB, not a migdoctor file")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"not UTF-8 text (byte {exc.start}), not a migdoctor file") from None
