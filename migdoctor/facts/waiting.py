"""Waiting for what may never answer (a getaddrinfo with a dead nameserver, a libvirt call or a
command to a host that dropped off the network) for a bounded time, then going on without it.

Daemon threads, not a thread pool: a blocked call cannot be cancelled, and the process must stay
free to exit (and answer its caller) without waiting for it; a pool's threads are joined at exit."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
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
