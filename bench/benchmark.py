"""The one-pair figures of docs/performance.md, measured on this machine (not a test): lab up/down,
`facts` per host locally and over SSH, `--help`, `check` over SSH with the probe, and all checks on
saved facts. Over SSH the hosts are bare (nothing of migdoctor installed); the same run also
measures them with an installed migdoctor (remote_command). Over SSH no target is printed: those are
ratios to SSH itself (bench/fleet_lab.py).

Run as root: .venv/bin/python bench/benchmark.py [--runs N]
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
from collections.abc import Callable
from pathlib import Path

from migdoctor.lab.inventory import FILE as LAB_INVENTORY

VENV_BIN = Path(sys.executable).parent
MIGDOCTOR = str(VENV_BIN / "migdoctor")


def timed(action: Callable[[], object], runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return times


def run(*argv: str, ok: tuple[int, ...] = (0,)) -> None:
    result = subprocess.run([MIGDOCTOR, *argv], capture_output=True, text=True)
    if result.returncode not in ok:
        raise SystemExit(f"{' '.join(argv)} exited {result.returncode}: {result.stderr.strip()[-300:]}")


def show(label: str, times: list[float], target: float | None = None) -> None:
    median = statistics.median(times)
    verdict = "" if target is None else f"  target < {target:.3f} s: {'met' if median < target else 'MISSED'}"
    print(f"{label:52} median {median:7.3f} s  min {min(times):7.3f} s  (n={len(times)}){verdict}")


def judge_saved_facts(report_path: str, runs: int) -> list[float]:
    """All checks over saved facts, in-process: the judging cost alone."""
    from migdoctor.engine import discover, pair_checks, run_checks
    from migdoctor.judging.pair import Intent, MigrationNetwork, Pair

    facts = json.loads(Path(report_path).read_text())["facts"]  # a schema 2 report: by host label
    checks = pair_checks(discover())
    pair = Pair(
        "hosta",
        "hostb",
        facts["hosta"],
        facts["hostb"],
        Intent(MigrationNetwork.parse("198.51.100.0/24"), "bench", False),
    )
    return timed(lambda: run_checks(checks, pair, set()), runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args().runs
    os.environ.setdefault("MIGDOCTOR_INVENTORY", str(LAB_INVENTORY))  # what `lab up` says to export
    # Bytecode as pip writes it at install: with PYTHONDONTWRITEBYTECODE set (this machine sets it),
    # a module changed since its last .pyc would otherwise be compiled again on every command.
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(Path(__file__).parents[1] / "migdoctor")], check=True)
    from migdoctor.lab import exec_prefix

    show("migdoctor --help", timed(lambda: run("--help"), runs), 0.3)
    run("lab", "down")
    show("lab up (scenario healthy)", timed(lambda: run("lab", "up", "--scenario", "healthy"), 1))
    try:
        for host in ("hosta", "hostb"):
            inside = [*exec_prefix(host), MIGDOCTOR, "facts", "--json"]
            show(
                f"facts {host} locally (whole command, on the host)",
                timed(lambda argv=inside: subprocess.run(argv, capture_output=True, check=True), runs),
                0.5,
            )
            show(f"facts {host} collection alone (collection_seconds)", collection_seconds(inside, runs))
            show(f"facts {host} over SSH, bare host", timed(lambda h=host: run("facts", h, "--json"), runs))
        with tempfile.TemporaryDirectory() as scratch:
            report = f"{scratch}/report.json"
            installed = installed_inventory(scratch)
            show(
                "facts hostb over SSH, migdoctor installed there",
                timed(lambda: run("facts", "hostb", "--json", "--inventory", installed), runs),
            )
            show(
                "check hosta hostb over SSH, probe, bare",
                timed(lambda: run("check", "hosta", "hostb", "--include-facts", "--output", report, ok=(0, 1)), runs),
            )
            show(
                "check hosta hostb over SSH, probe, installed there",
                timed(
                    lambda: run("check", "hosta", "hostb", "--inventory", installed, "--output", report, ok=(0, 1)),
                    runs,
                ),
            )
            run("check", "hosta", "hostb", "--include-facts", "--output", report, ok=(0, 1))
            show("all checks judged on saved facts", judge_saved_facts(report, runs * 20), 0.05)
        migration_figures(runs)
        dead_nameserver_figures(runs)
    finally:
        show("lab down", timed(lambda: run("lab", "down"), 1))


def dead_nameserver_figures(runs: int) -> None:
    """The whole check while the source's only nameserver drops every answer, with
    glibc's default resolver time-outs there (~10 s per getaddrinfo)."""
    run("lab", "down")
    run("lab", "up", "--scenario", "source-dns-dead")
    with tempfile.TemporaryDirectory() as scratch:
        report = f"{scratch}/report.json"
        show(
            "check hosta hostb, hosta's only nameserver dead",
            timed(lambda: run("check", "hosta", "hostb", "--output", report, ok=(1,)), max(1, runs // 2)),
            15.0,
        )


def installed_inventory(scratch: str) -> str:
    """The lab's inventory with this installation as each host's remote_command (the hosts share
    this machine's filesystem): the far side then needs no bundle."""
    import tomli_w

    from migdoctor.transports.inventory import load_inventory

    inventory = load_inventory()
    hosts = {name: {**entry, "remote_command": MIGDOCTOR} for name, entry in inventory.hosts.items()}
    path = f"{scratch}/installed.toml"
    Path(path).write_text(tomli_w.dumps({"defaults": inventory.defaults, "hosts": hosts}))
    return path


def trial_leg(scenario: str, memory: int, *options: str) -> tuple[float, dict]:
    """migdoctor's one-way test migration: the whole command's wall time and its leg record."""
    run("lab", "down")
    run("lab", "up", "--scenario", scenario)
    with tempfile.TemporaryDirectory() as scratch:
        report = f"{scratch}/trial.json"
        started = time.perf_counter()
        run(
            "migrate-test",
            "hosta",
            "hostb",
            "--one-way",
            "--canary-memory",
            str(memory),
            "--output",
            report,
            *options,
            ok=(0, 1),
        )
        wall = time.perf_counter() - started
        return wall, json.loads(Path(report).read_text())["pairs"][0]["migration_trial"]["legs"][0]


def bare_virsh(memory: int) -> float:
    """`virsh migrate --live --p2p` of the same canary over the same URIs, run on hosta."""
    from migdoctor.actions import canary
    from migdoctor.actions.migration import TrialOptions
    from migdoctor.farside.canary import write_payload
    from migdoctor.lab import STATE_DIR, exec_prefix, local_libvirt_uri
    from migdoctor.lab.daemons import open_libvirt
    from migdoctor.transports.inventory import load_inventory

    payload = write_payload(STATE_DIR / "bench-payload.bin", TrialOptions(memory).payload_mib)
    src, dst = open_libvirt(local_libvirt_uri("hosta")), open_libvirt(local_libvirt_uri("hostb"))
    try:
        canary.start(src, payload, "bench-canary", memory)
        uri = load_inventory().hosts["hostb"]["libvirt_uri"]
        started = time.perf_counter()
        argv = [*exec_prefix("hosta"), "virsh", "migrate", "--live", "--p2p", "bench-canary", uri]
        subprocess.run(argv, check=True, capture_output=True)
        return time.perf_counter() - started
    finally:
        canary.remove(src, "bench-canary")
        canary.remove(dst, "bench-canary")
        payload.unlink()


def migration_figures(runs: int) -> None:
    """migdoctor's migration against bare virsh on the same path, the measured rate against the
    shaping rate on both paths, and the rate over TLS."""
    memory = 256
    for _ in range(max(1, runs // 2)):
        command_wall, leg = trial_leg("healthy", memory)
        virsh_wall = bare_virsh(memory)
        ratio = leg["wall_s"] / virsh_wall
        print(
            f"fast path, {memory} MiB canary: migdoctor leg {leg['wall_s']:.2f} s (whole migrate-test {command_wall:.2f} s), "
            f"bare virsh migrate {virsh_wall:.2f} s: leg/virsh {ratio:.2f}  target <= 1.10: {'met' if ratio <= 1.10 else 'MISSED'}"
        )
        print(
            f"fast path rate {leg['rate_mbps']} Mb/s of 1000 shaped: {leg['rate_mbps'] / 10:.1f}%  target >= 90%: "
            f"{'met' if leg['rate_mbps'] >= 900 else 'MISSED'}  (link {leg['source_link']} -> {leg['destination_link']})"
        )
    tls_wall, tls = trial_leg("tls", memory, "--tls")
    print(
        f"fast path over TLS (scenario tls, --tls) rate {tls['rate_mbps']} Mb/s of 1000 shaped: "
        f"{tls['rate_mbps'] / 10:.1f}%, leg {tls['wall_s']:.2f} s  (link {tls['source_link']} -> {tls['destination_link']})"
    )
    _, lan = trial_leg("seed", 128)
    print(
        f"LAN path rate {lan['rate_mbps']} Mb/s of 100 shaped: {lan['rate_mbps']:.1f}%  "
        f"(link {lan['source_link']} -> {lan['destination_link']})"
    )


def collection_seconds(argv: list[str], runs: int) -> list[float]:
    """The collector's own time as it reports it, without interpreter start-up and imports."""
    return [
        json.loads(subprocess.run(argv, capture_output=True, text=True, check=True).stdout)["collection_seconds"]
        for _ in range(runs)
    ]


if __name__ == "__main__":
    main()
