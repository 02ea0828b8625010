"""Two far-side designs, measured on the lab's bare hosts (not a test): (a) mitogen,
which starts python3 over the system ssh and serves every import from the control node on demand;
(b) migdoctor's own, one zip of the far-side code sent over the same ssh connection, imported from
memory. Each run opens a fresh connection, collects hostb's facts twice, and closes.

Needs the lab up and mitogen importable (`.venv/bin/pip install mitogen`, a measurement-only
dependency). Run as root: .venv/bin/python bench/far_side_designs.py [--runs N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable

from migdoctor.lab import ssh
from migdoctor.lab.inventory import FILE as LAB_INVENTORY
from migdoctor.transports import Lookups, open_transports, resolve_host
from migdoctor.transports.inventory import load_inventory


def with_mitogen() -> tuple[float, float]:
    import mitogen.master

    from migdoctor.facts import collect

    broker = mitogen.master.Broker()
    try:
        router = mitogen.master.Router(broker)
        started = time.perf_counter()
        context = router.ssh(
            hostname="hostb",
            username="root",
            ssh_args=["-F", str(ssh.SSH_CONFIG)],
            python_path=["/usr/bin/python3"],
        )
        context.call(collect)
        first = time.perf_counter() - started
        started = time.perf_counter()
        context.call(collect, (), ("hosta.lab.test",), (), True)
        return first, time.perf_counter() - started
    finally:
        broker.shutdown()
        broker.join()


def with_bundle() -> tuple[float, float]:
    host = resolve_host("hostb", load_inventory())
    with open_transports([host]) as (hostb,):
        started = time.perf_counter()
        hostb.call("facts")
        first = time.perf_counter() - started
        started = time.perf_counter()
        hostb.call("facts", **Lookups(resolve=("hosta.lab.test",), only=True).arguments())
        return first, time.perf_counter() - started


def show(label: str, measure: Callable[[], tuple[float, float]], runs: int) -> None:
    samples = [measure() for _ in range(runs)]
    first, second = [statistics.median(s[i] for s in samples) for i in (0, 1)]
    print(f"{label:40} connect + first facts median {first:6.3f} s   a second call median {second:6.3f} s  (n={runs})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args().runs
    os.environ.setdefault("MIGDOCTOR_INVENTORY", str(LAB_INVENTORY))  # what `lab up` says to export
    show("(b) zip bundle over the ssh connection", with_bundle, runs)
    show("(a) mitogen 0.3 (imports served on demand)", with_mitogen, runs)


if __name__ == "__main__":
    main()
