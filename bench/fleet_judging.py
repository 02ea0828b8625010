"""Judging saved facts for a fleet (not a test): `migdoctor check --facts-dir DIR --all`
for 10, 50, 100 and 200 hosts (200 hosts = 39,800 ordered pairs), each host's facts made from
the lab's captured healthy destination (every 20th the seed's) with its own name and addresses, and
with the look-ups of every peer a full second round would have made (the costliest case to judge).
Prints wall time, peak memory, the cost per pair, how it grows, and the report's size. Target
for 200 hosts on the 2-core machine: <= 20 s and <= 1 GiB.

Run: .venv/bin/python bench/fleet_judging.py [--hosts 10 50 100 200] [--firewall firewalld-public]
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from migdoctor.facts import SCHEMA_VERSION
from migdoctor.netfilter.host import upgraded

ROOT = Path(__file__).resolve().parents[1]
MIGDOCTOR = str(Path(sys.executable).parent / "migdoctor")
CAPTURES = ROOT / "tests" / "data" / "netfilter" / "real"
TEMPLATES = [ROOT / "tests" / "data" / "facts" / f"{name}-report.json" for name in ("healthy", "seed")]
BAD_EVERY = 20
NETWORKS = ("192.0.2", "198.51.100", "203.0.113")
NAMESERVER = 53


def octet(index: int) -> int:
    """Host INDEX's last octet in every network: 2 and up, the nameserver's left out."""
    value = index + 2
    return value + 1 if value >= NAMESERVER else value


def host_facts(template: str, index: int, firewall: str | None = None) -> dict[str, Any]:
    """The template (hostb's facts, schema 1) as host kvmNNN of this facts schema: its name and
    its own addresses replaced, its firewall the lab's or the capture FIREWALL names."""
    text = template.replace("hostb", f"kvm{index:03d}")
    for network in NETWORKS:
        text = re.sub(rf"\b{re.escape(network)}\.2\b", f"{network}.{octet(index)}", text)
    facts = json.loads(text)
    facts["schema_version"] = SCHEMA_VERSION
    facts["firewall"] = upgraded(facts["firewall"])
    if firewall:
        facts["firewall"] = json.loads((CAPTURES / f"{firewall}.json").read_text(encoding="utf-8"))["firewall"]
    return facts


def bad(index: int) -> bool:
    return index % BAD_EVERY == BAD_EVERY - 1


def with_peer_look_ups(facts: dict[str, Any], index: int, count: int) -> dict[str, Any]:
    """FACTS with what the second round would add: each peer's advertised name resolved (a seed
    host advertises its LAN name), and the route and PTR names of each peer's migration address."""
    lookup = copy.deepcopy(facts["resolution"]["lookups"][0]) if facts["resolution"]["lookups"] else None
    own = f"198.51.100.{octet(index)}"
    lookups, routes, reverse = [], [], []
    for peer in range(count):
        if peer == index:
            continue
        address = f"198.51.100.{octet(peer)}"
        name, resolved = (
            (f"kvm{peer:03d}.lab.test", f"192.0.2.{octet(peer)}")
            if bad(peer)
            else (f"kvm{peer:03d}-fast.lab.test", address)
        )
        answer = {"address": address, "error": None, "names": [f"kvm{peer:03d}-fast.lab.test"]}
        lookups.append(
            {
                **(lookup or {}),
                "name": name,
                "dns": {"addresses": [resolved], "error": None, "server": f"203.0.113.{NAMESERVER}"},
                "getaddrinfo": {"addresses": [resolved], "canonical_name": name, "error": None, "error_code": None},
                "hosts_file": [],
                "reverse": [{"address": resolved, "error": None, "names": [name]}],
            }
        )
        routes.append(
            {
                "destination": address,
                "error": None,
                "family": "inet",
                "gateway": None,
                "interface": "b-fast",
                "metric": None,
                "protocol": 0,
                "scope": 0,
                "source": own,
                "table": 254,
            }
        )
        reverse.append(answer)
    facts["resolution"] = {**facts["resolution"], "lookups": lookups, "reverse_lookups": reverse}
    facts["route_lookups"] = routes
    return facts


def write_fleet(directory: Path, count: int, firewall: str | None = None) -> None:
    """COUNT hosts, every BAD_EVERY-th of them the seed's hostb (it advertises its LAN name)."""
    healthy, seed = (
        json.dumps(json.loads(path.read_text(encoding="utf-8"))["facts"]["destination"]) for path in TEMPLATES
    )
    for index in range(count):
        template = seed if bad(index) else healthy
        facts = with_peer_look_ups(host_facts(template, index, firewall), index, count)
        (directory / f"kvm{index:03d}.json").write_text(json.dumps(facts), encoding="utf-8")


def judge(directory: Path, report: Path) -> tuple[float, float]:
    """(wall seconds, peak RSS MiB of the judging process or a worker); exit 0 or 1 (a check failed) only."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    done = subprocess.run(
        [MIGDOCTOR, "check", "--facts-dir", str(directory), "--all", "--inventory", "/dev/null",
         "--migration-network", "198.51.100.0/24", "--output", str(report), "--format", "text"],
        capture_output=True, text=True,
    )  # fmt: skip
    wall = time.perf_counter() - started
    if done.returncode not in (0, 1):
        raise SystemExit(f"check exited {done.returncode}: {done.stderr.strip()[-400:]}")
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return wall, max(peak, before) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, nargs="+", default=[10, 50, 100, 200])
    parser.add_argument("--firewall", help="every host's firewall: a capture of tests/data/netfilter/real (NAME)")
    args = parser.parse_args()
    print(
        f"{'hosts':>5} {'pairs':>6} {'wall s':>7} {'per pair ms':>11} {'vs above':>8} {'peak MiB':>8} {'report MiB':>10}"
    )
    previous: float | None = None
    for count in args.hosts:
        with tempfile.TemporaryDirectory(prefix="migdoctor-fleet-") as scratch:
            directory = Path(scratch) / "facts"
            directory.mkdir()
            write_fleet(directory, count, args.firewall)
            report = Path(scratch) / "report.json"
            wall, peak = judge(directory, report)
            pairs = count * (count - 1)
            cost, size = wall / pairs * 1000, report.stat().st_size / 2**20
            growth = f"{cost / previous:.2f}x" if previous else "-"
            print(f"{count:>5} {pairs:>6} {wall:>7.2f} {cost:>11.3f} {growth:>8} {peak:>8.0f} {size:>10.1f}")
            previous = cost
    print("vs above: the per-pair cost against the row above (1.00x: the cost grows with the pairs, no faster)")
    print("peak MiB: the largest resident set of the check process or a judging worker (RUSAGE_CHILDREN)")
    load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    print(f"load average after the run: {load} on {len(os.sched_getaffinity(0))} cores (shared with other work)")


if __name__ == "__main__":
    main()
