"""What judging the guests costs: `evacuate hosta` against `check hosta hostb` in the same run,
interleaved (one of each per round, so a busy machine slows both alike), with 20 running guests
on hosta (diskless, as the canary). Prints the medians, their ratio against the 2x target, and
the load average. Not a test.

Run as root, under the lab lock: flock /tmp/migdoctor-lab.lock .venv/bin/python bench/evacuate.py [--runs N]
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
GUESTS = 20
GUEST_MIB = 64
TARGET_RATIO = 2.0


def timed(*argv: str) -> tuple[float, dict]:
    """Seconds `migdoctor ARGV` took, and its report; exit 0 and 1 are judgements (a guest that
    cannot move is one)."""
    with tempfile.TemporaryDirectory() as directory:
        output = Path(directory) / "report.json"
        started = time.perf_counter()
        argv = (*argv, "--format", "json", "--output", str(output))
        done = subprocess.run([MIGDOCTOR, *argv], capture_output=True, text=True)
        took = time.perf_counter() - started
        if done.returncode not in (0, 1):
            raise SystemExit(f"migdoctor {' '.join(argv)} exited {done.returncode}: {done.stderr.strip()[-300:]}")
        return took, json.loads(output.read_text())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=7)
    runs = parser.parse_args().runs
    os.environ["MIGDOCTOR_INVENTORY"] = str(LAB_INVENTORY)  # what `lab up` says to export
    from migdoctor import lab
    from migdoctor.actions import canary
    from migdoctor.lab import daemons

    lab.down()
    lab.up("healthy")
    try:
        conn = daemons.open_libvirt(lab.local_libvirt_uri("hosta"))
        names = [f"bench-guest-{number:02}" for number in range(GUESTS)]
        for name in names:
            canary.start(conn, None, name=name, memory_mib=GUEST_MIB)
        running = len(conn.listAllDomains(1))  # VIR_CONNECT_LIST_DOMAINS_ACTIVE
        timed("check", "hosta", "hostb")  # warm: the first run pays for the caches
        checks, evacuations = [], []
        judged: list[str] = []
        for _ in range(runs):
            checks.append(timed("check", "hosta", "hostb")[0])
            took, report = timed("evacuate", "hosta")
            evacuations.append(took)
            judged = [guest["verdict"] for guest in report["guests"]]
        if len(judged) != GUESTS or "not checked" in judged:
            raise SystemExit(f"evacuate judged {len(judged)} guests ({', '.join(sorted(set(judged)))}), not {GUESTS}")
        check, evacuate = statistics.median(checks), statistics.median(evacuations)
        ratio = evacuate / check
        print(f"guests running on hosta: {running}, judged by evacuate: {len(judged)}; runs: {runs} each, interleaved")
        print(f"check hosta hostb   median {check:6.3f} s  min {min(checks):6.3f} s")
        print(f"evacuate hosta      median {evacuate:6.3f} s  min {min(evacuations):6.3f} s")
        verdict = "met" if ratio <= TARGET_RATIO else "MISSED"
        print(f"ratio {ratio:.2f}x (target <= {TARGET_RATIO:.0f}x: {verdict})")
        print("load average (1, 5, 15 min): {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
        for name in names:
            canary.remove(conn, name)
    finally:
        lab.down()


if __name__ == "__main__":
    main()
