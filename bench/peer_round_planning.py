"""The control node's share of the migdoctor.fleet playbook's second round (not a test):
each host's task reads every peer's first-round record from the play's variables (as plain data,
held to the facts schema: transports.ansible_connection.first_rounds) and plans the host's
look-ups aimed at them (run.lookups.lookups_among). Each host's task reads all N records, so the
play's total grows with N squared; Ansible's own cost of handing over hostvars is not in these
figures. Records made as bench/fleet_judging.py makes them, from the lab's captured facts.

Run: .venv/bin/python bench/peer_round_planning.py [--hosts 10 50 100 200] [--sample 5]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fleet_judging import TEMPLATES, bad, host_facts  # noqa: E402

from migdoctor.run.lookups import lookups_among  # noqa: E402
from migdoctor.transports.ansible_connection import first_rounds  # noqa: E402


def play_hostvars(count: int) -> dict[str, dict[str, Any]]:
    """hostvars after the first round: COUNT hosts, each with its variables and its record."""
    healthy, seed = (
        json.dumps(json.loads(path.read_text(encoding="utf-8"))["facts"]["destination"]) for path in TEMPLATES
    )
    return {
        f"kvm{index:03d}": {
            "ansible_host": f"kvm{index:03d}.example.org",
            "migdoctor_migration_network": "198.51.100.0/24",
            "ansible_facts": {"migdoctor": host_facts(seed if bad(index) else healthy, index)},
        }
        for index in range(count)
    }


def one_host(label: str, labels: list[str], hostvars: dict[str, dict[str, Any]]) -> tuple[float, float, int]:
    """(seconds reading the records, seconds planning, look-ups planned) of LABEL's task."""
    started = time.perf_counter()
    records, inventory, _ = first_rounds(label, labels, hostvars)
    read = time.perf_counter()
    planned = lookups_among(label, records, inventory)
    done = time.perf_counter()
    return read - started, done - read, len(planned.route_to) + len(planned.resolve) + len(planned.reverse)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, nargs="+", default=[10, 50, 100, 200])
    parser.add_argument("--sample", type=int, default=5, help="hosts timed per fleet size (median)")
    options = parser.parse_args()
    print(f"{'hosts':>6} {'read ms/host':>13} {'plan ms/host':>13} {'look-ups/host':>14} {'play total s':>13}")
    for count in options.hosts:
        hostvars = play_hostvars(count)
        labels = list(hostvars)
        timed = [one_host(label, labels, hostvars) for label in labels[: options.sample]]
        read = statistics.median(t[0] for t in timed)
        plan = statistics.median(t[1] for t in timed)
        print(f"{count:>6} {read * 1000:>13.1f} {plan * 1000:>13.1f} {timed[0][2]:>14} {(read + plan) * count:>13.1f}")


if __name__ == "__main__":
    main()
