"""Issue 10's fleet figure on the 3-host lab (not a test): `check --all` (6 ordered pairs over SSH,
probes included, no test migration) against `check hosta hostb` (one pair), interleaved in the same
run, wall time of the whole command as an admin runs it. Target: --all <= 1.5x the one pair (facts
once per host, not once per pair). The load average before and after says how quiet the machine was.

Hold the lab lock: flock /tmp/migdoctor-lab.lock .venv/bin/python bench/fleet_lab.py [--runs N]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from migdoctor.lab.inventory import FILE as LAB_INVENTORY

MIGDOCTOR = str(Path(sys.executable).parent / "migdoctor")
TARGET_RATIO = 1.5


def migdoctor(*args: str, ok: tuple[int, ...] = (0,)) -> None:
    done = subprocess.run([MIGDOCTOR, *args], capture_output=True, text=True)
    if done.returncode not in ok:
        raise SystemExit(f"migdoctor {' '.join(args)} exited {done.returncode}: {done.stderr.strip()[-300:]}")


def timed_check(report: Path, *args: str) -> float:
    """`migdoctor check ARGS` on the healthy lab (every pair passes: exit 0); its wall time."""
    started = time.perf_counter()
    migdoctor("check", *args, "--output", str(report))
    return time.perf_counter() - started


def summary(times: list[float]) -> str:
    return f"median {statistics.median(times):6.3f} s  range {min(times):6.3f}-{max(times):6.3f} s"


def load() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args().runs
    os.environ.setdefault("MIGDOCTOR_INVENTORY", str(LAB_INVENTORY))  # what `lab up` says to export
    print(f"load average before: {load()} ({os.cpu_count()} cores)")
    migdoctor("lab", "down")
    migdoctor("lab", "up", "--scenario", "healthy", "--hosts", "3")
    one, fleet = [], []
    try:
        with tempfile.TemporaryDirectory() as scratch:
            pair_report, fleet_report = Path(scratch) / "pair.json", Path(scratch) / "fleet.json"
            timed_check(pair_report, "hosta", "hostb")  # warm: the far-side bundle, page cache
            for _ in range(runs):
                one.append(timed_check(pair_report, "hosta", "hostb"))
                fleet.append(timed_check(fleet_report, "--all"))
            pairs = len(json.loads(fleet_report.read_text())["pairs"])
    finally:
        migdoctor("lab", "down")
    ratio = statistics.median(fleet) / statistics.median(one)
    print(f"check hosta hostb (1 pair)      {summary(one)}  (n={runs})")
    print(f"check --all ({pairs} pairs, 3 hosts) {summary(fleet)}  (n={runs})")
    verdict = "met" if ratio <= TARGET_RATIO else "MISSED"
    print(f"ratio --all / one pair: {ratio:.2f}  target <= {TARGET_RATIO}: {verdict}")
    print(f"load average after: {load()}")


if __name__ == "__main__":
    main()
