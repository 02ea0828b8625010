"""The fleet's speed as ratios on the 3-host lab (not a test), all in one run, interleaved round by
round so the machine's drift hits every command alike; wall time of each whole command as an admin
runs it, the hosts bare (scenario healthy, every pair passes, probes included, no test migration):

- `check hosta hostb` against `ssh hostb /usr/bin/python3 -c pass` (what any tool that runs
  Python there pays): target <= 3.5x.
- `check --all` (6 ordered pairs) against `check hosta hostb`: what each pair beyond the first
  costs, against one `ssh hostb true` of the same round: target <= 0.5.

Each is the median of the rounds' own ratios. The load average before and after says how quiet the
machine was. Hold the lab lock for the whole run:
flock /tmp/migdoctor-lab.lock .venv/bin/python bench/fleet_lab.py [--runs N]
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
import tomllib
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

MIGDOCTOR = str(Path(sys.executable).parent / "migdoctor")
PAIR_TO_PYTHON = 3.5  # check hosta hostb / ssh hostb python3 -c pass
EXTRA_PAIR_TO_SSH = 0.5  # (check --all - check hosta hostb) / (pairs - 1) / ssh hostb true


def migdoctor(*args: str) -> None:
    done = subprocess.run([MIGDOCTOR, *args], capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"migdoctor {' '.join(args)} exited {done.returncode}: {done.stderr.strip()[-300:]}")


def timed(argv: list[str]) -> float:
    """ARGV's wall time; it must succeed (on the healthy lab every pair passes: exit 0)."""
    started = time.perf_counter()
    done = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True)
    took = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} exited {done.returncode}: {done.stderr.strip()[-300:]}")
    return took


def ssh_to(inventory: dict[str, Any], host: str) -> list[str]:
    """ssh to HOST as migdoctor reaches it: the inventory's destination and ssh config."""
    entry = inventory["hosts"][host]
    return ["ssh", "-o", "BatchMode=yes", "-F", entry["ssh_config"], urlsplit(entry["transport"]).netloc]


def summary(times: list[float]) -> str:
    return f"median {statistics.median(times):6.3f} s  range {min(times):6.3f}-{max(times):6.3f} s"


def load() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args().runs
    # Bytecode as pip writes it at install (this machine sets PYTHONDONTWRITEBYTECODE).
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(Path(__file__).parents[1] / "migdoctor")], check=True)
    from migdoctor.lab import inventory as lab_inventory

    migdoctor("lab", "down")
    migdoctor("lab", "up", "--scenario", "healthy", "--hosts", "3")
    times: dict[str, list[float]] = {"python": [], "true": [], "pair": [], "all": []}
    try:
        inventory_file = str(lab_inventory.FILE)
        ssh = ssh_to(tomllib.loads(lab_inventory.FILE.read_text()), "hostb")
        with tempfile.TemporaryDirectory() as scratch:
            pair_report, fleet_report = f"{scratch}/pair.json", f"{scratch}/fleet.json"
            commands = {
                "python": [*ssh, "/usr/bin/python3", "-c", "pass"],
                "pair": [MIGDOCTOR, "check", "hosta", "hostb", "--inventory", inventory_file, "--output", pair_report],
                "true": [*ssh, "true"],
                "all": [MIGDOCTOR, "check", "--all", "--inventory", inventory_file, "--output", fleet_report],
            }
            for argv in commands.values():  # warm: the far-side bundle, the page cache, known hosts
                timed(argv)
            print(f"load average before: {load()} ({os.cpu_count()} cores)")
            for _ in range(runs):
                for name, argv in commands.items():
                    times[name].append(timed(argv))
            load_after = load()
            pairs = len(json.loads(Path(fleet_report).read_text())["pairs"])
    finally:
        migdoctor("lab", "down")
    rounds = list(zip(times["python"], times["true"], times["pair"], times["all"], strict=True))
    pair_to_python = statistics.median(pair / python for python, _, pair, _ in rounds)
    extra_to_ssh = statistics.median((fleet - pair) / (pairs - 1) / true for _, true, pair, fleet in rounds)
    print(f"ssh hostb /usr/bin/python3 -c pass    {summary(times['python'])}  (n={runs})")
    print(f"ssh hostb true                        {summary(times['true'])}  (n={runs})")
    print(f"check hosta hostb (1 pair)            {summary(times['pair'])}  (n={runs})")
    print(f"check --all ({pairs} pairs, 3 hosts)       {summary(times['all'])}  (n={runs})")
    print(
        f"check hosta hostb / ssh python3 -c pass: {pair_to_python:.3f}x  target <= {PAIR_TO_PYTHON}: "
        f"{'met' if pair_to_python <= PAIR_TO_PYTHON else 'MISSED'}"
    )
    print(
        f"each pair beyond the first / ssh true: {extra_to_ssh:.3f}  target <= {EXTRA_PAIR_TO_SSH}: "
        f"{'met' if extra_to_ssh <= EXTRA_PAIR_TO_SSH else 'MISSED'}"
    )
    print(f"(check --all / check hosta hostb: {statistics.median(a / p for _, _, p, a in rounds):.2f})")
    print(f"load average after: {load_after}")


if __name__ == "__main__":
    main()
