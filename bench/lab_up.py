"""How long `migdoctor lab up --hosts N` and `lab down` take for 2, 3 and 4 hosts (not a test).

Each run brings the lab up from nothing (scenario healthy), reads it as ready, and takes it
down; the figures are wall times of the CLI as an admin runs it, plus `up`'s own record. Hold
the lab lock: flock /tmp/migdoctor-lab.lock .venv/bin/python bench/lab_up.py [--runs N] [--hosts 2 3 4]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time


def lab(*args: str) -> float:
    """Run `migdoctor lab ARGS`; its wall time."""
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "migdoctor", "lab", *args], capture_output=True, text=True)
    took = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"lab {' '.join(args)} exited {done.returncode}: {done.stderr.strip()}")
    return took


def recorded_up_seconds() -> float:
    out = subprocess.run(
        [sys.executable, "-m", "migdoctor", "lab", "status", "--json"], capture_output=True, text=True, check=True
    ).stdout
    return float(json.loads(out)["up_seconds"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--hosts", type=int, nargs="+", default=[2, 3, 4])
    parser.add_argument("--scenario", default="healthy")
    options = parser.parse_args()
    lab("down")
    for count in options.hosts:
        ups, inner, downs = [], [], []
        for _ in range(options.runs):
            ups.append(lab("up", "--scenario", options.scenario, "--hosts", str(count)))
            inner.append(recorded_up_seconds())
            downs.append(lab("down"))
        print(
            f"{count} hosts: lab up median {statistics.median(ups):5.2f} s (min {min(ups):5.2f}, "
            f"in-process {statistics.median(inner):5.2f}), lab down median {statistics.median(downs):5.2f} s "
            f"(n={options.runs})"
        )


if __name__ == "__main__":
    main()
