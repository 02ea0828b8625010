"""Real live migrations in the lab: the test migration names the links that carried it and
cleans up on every exit (success, failure, timeout, Ctrl-C, a destination libvirtd killed
mid-migration); `migdoctor watch` names the link of a migration started with plain virsh."""

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from migdoctor.actions import canary
from migdoctor.farside.canary import MIB, write_payload
from migdoctor.lab import layout

pytestmark = pytest.mark.lab

MIGDOCTOR = str(Path(sys.prefix) / "bin" / "migdoctor")
SHAPING_MBPS = {"lan": 100, "fast": 1000}
WATCHED = "migdoctor-canary-watch"


def migrate_test(
    tmp_path: Path, *args: str, timeout: float = 180
) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    output = tmp_path / "trial.json"
    argv = [
        MIGDOCTOR,
        "check",
        "hosta",
        "hostb",
        "--test-migration",
        "--only",
        "migration",
        "--no-probe",
        "--format",
        "json",
        "--output",
        str(output),
        *args,
    ]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    assert output.exists(), done.stderr
    return done, json.loads(output.read_text())


def start_migrate_test(tmp_path: Path, *args: str) -> subprocess.Popen[str]:
    argv = [MIGDOCTOR, "migrate-test", "hosta", "hostb", "--output", str(tmp_path / "trial.json"), *args]
    return subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def canary_processes() -> list[str]:
    """Every process on the machine running a migdoctor canary (both lab hosts share the PID space)."""
    found = subprocess.run(["pgrep", "-af", "guest=migdoctor-canary"], capture_output=True, text=True).stdout
    return [line for line in found.splitlines() if "pgrep" not in line]


def assert_no_canary(lab: Any) -> None:
    for host in ("hosta", "hostb"):
        listing = lab.run(host, "virsh", "-c", "qemu:///system", "list", "--all", "--name").stdout
        assert "migdoctor-canary" not in listing, f"{host}: {listing}"
    assert canary_processes() == []
    assert not list(Path("/var/tmp").glob("migdoctor-canary-*"))


def wait_for_canary_job(lab: Any, timeout: float = 30) -> None:
    """Until a canary migration is under way on hosta."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        names = lab.run("hosta", "virsh", "-c", "qemu:///system", "list", "--name").stdout.split()
        for name in (n for n in names if n.startswith("migdoctor-canary")):
            job = lab.run("hosta", "virsh", "-c", "qemu:///system", "domjobinfo", name, check=False).stdout
            if "Unbounded" in job or "Data processed" in job:
                return
        time.sleep(0.1)
    pytest.fail("no canary migration started on hosta")


def within(rate: float, shaping: int, tolerance: float = 0.15) -> bool:
    return abs(rate - shaping) <= shaping * tolerance


def test_seed_trial_crosses_the_lan_and_fails(lab_scenario: Any, tmp_path: Path) -> None:
    lab = lab_scenario("seed")
    done, report = migrate_test(tmp_path, "--canary-memory", "128", "--one-way")
    (finding,) = report["pairs"][0]["findings"]
    leg = report["pairs"][0]["migration_trial"]["legs"][0]
    assert done.returncode == 1 and finding["status"] == "fail"
    assert leg["ok"] and (leg["source_link"], leg["destination_link"]) == ("a-lan", "b-lan")
    assert leg["source_tx_bytes"] >= report["pairs"][0]["migration_trial"]["payload_mib"] * MIB
    assert within(leg["rate_mbps"], SHAPING_MBPS["lan"]), leg
    assert finding["remediation"] == 'hostb:/etc/libvirt/qemu.conf: migration_host = "hostb-fast.lab.test"'
    assert_no_canary(lab)


def test_round_trip_back_by_the_lan_fails_on_its_return_leg(lab_scenario: Any, tmp_path: Path) -> None:
    """hostb advertises its fast name, hosta still its LAN name: the canary reaches hostb by the
    fast link and comes back by the LAN, which fails the round trip and names hosta's fix."""
    lab = lab_scenario("return-via-lan")
    done, report = migrate_test(tmp_path, "--canary-memory", "128")
    (pair,) = report["pairs"]
    (finding,) = pair["findings"]
    there, back = pair["migration_trial"]["legs"]
    assert (there["source_link"], there["destination_link"]) == ("a-fast", "b-fast"), there
    assert (back["source_link"], back["destination_link"]) == ("b-lan", "a-lan"), back
    assert [leg["on_migration_network"] for leg in pair["measured_path"]] == [True, False]
    assert done.returncode == 1 and finding["status"] == "fail", finding
    assert finding["summary"] == (
        "the return migration's stream left hostb by b-lan and reached hosta on a-lan, "
        "off the migration network 198.51.100.0/24"
    )
    assert finding["remediation"] == 'hosta:/etc/libvirt/qemu.conf: migration_host = "hosta-fast.lab.test"'
    assert_no_canary(lab)


def test_timeout_aborts_and_cleans_up(lab_scenario: Any, tmp_path: Path) -> None:
    lab = lab_scenario("seed")
    done, report = migrate_test(tmp_path, "--canary-memory", "256", "--timeout", "2")
    leg = report["pairs"][0]["migration_trial"]["legs"][0]
    assert not leg["ok"] and leg["error"].startswith("timed out after 2 s")
    assert done.returncode == 1
    assert_no_canary(lab)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_interruption_cleans_up(lab_scenario: Any, tmp_path: Path, signum: int) -> None:
    lab = lab_scenario("seed")
    process = start_migrate_test(tmp_path, "--canary-memory", "256")
    wait_for_canary_job(lab)
    process.send_signal(signum)
    process.wait(timeout=60)
    report = json.loads((tmp_path / "trial.json").read_text())
    assert report["pairs"][0]["migration_trial"]["interrupted"] and process.returncode == 1
    assert_no_canary(lab)


def test_destination_libvirtd_killed_mid_migration(lab_scenario: Any, tmp_path: Path) -> None:
    from migdoctor import lab as lab_api

    lab = lab_scenario("seed")
    process = start_migrate_test(tmp_path, "--canary-memory", "256")
    wait_for_canary_job(lab)
    os.kill(lab_api.status()["hosts"]["hostb"]["pids"]["libvirtd"], signal.SIGKILL)
    process.wait(timeout=120)
    report = json.loads((tmp_path / "trial.json").read_text())
    leg = report["pairs"][0]["migration_trial"]["legs"][0]
    assert not leg["ok"] and leg["error"]
    assert canary_processes() == []  # the destination's qemu was ended although its libvirtd was gone
    lab_api.reload("hostb")
    assert_no_canary(lab)


def test_firewall_blocking_the_fast_link_fails_with_libvirts_error(lab_scenario: Any, tmp_path: Path) -> None:
    lab = lab_scenario("firewall-blocks-fast")
    done, report = migrate_test(tmp_path, "--canary-memory", "128")
    (finding,) = report["pairs"][0]["findings"]
    error = report["pairs"][0]["migration_trial"]["legs"][0]["error"]
    assert done.returncode == 1 and finding["status"] == "fail"
    assert finding["summary"] == f"live migration hosta -> hostb failed: {error}"
    # libvirt's own text: the refused connection, or (a race in its peer-to-peer clean-up) the
    # closing of its connection to hostb's libvirtd, which the remediation then explains
    assert error.startswith(
        (
            "unable to connect to server at 'hostb-fast.lab.test:49152': Connection refused",
            "End of file while reading data",
        )
    )
    assert_no_canary(lab)


def test_refuses_before_changing_anything(lab_scenario: Any, tmp_path: Path) -> None:
    lab = lab_scenario("healthy")
    done = subprocess.run(
        [
            MIGDOCTOR,
            "migrate-test",
            "hosta",
            "hostb",
            "--canary-memory",
            str(2**20),  # the most --canary-memory takes: more than a lab host has free
            "--output",
            str(tmp_path / "r.json"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stderr.startswith("migdoctor: hostb: ") and "MiB free" in done.stderr
    assert_no_canary(lab)


def test_healthy_round_trip_takes_the_fast_link_at_its_rate(lab_scenario: Any, tmp_path: Path) -> None:
    lab = lab_scenario("healthy")
    done, report = migrate_test(tmp_path)
    (finding,) = report["pairs"][0]["findings"]
    trial = report["pairs"][0]["migration_trial"]
    assert done.returncode == 0 and finding["status"] == "pass", finding
    there, back = trial["legs"]
    assert (there["source_link"], there["destination_link"]) == ("a-fast", "b-fast")
    assert (back["source_link"], back["destination_link"]) == ("b-fast", "a-fast")
    assert within(there["rate_mbps"], SHAPING_MBPS["fast"]), there
    assert trial["completed_stats"]["data_processed"] >= trial["payload_mib"] * MIB
    assert trial["completed_stats"]["data_total"] >= trial["memory_mib"] * MIB  # guest RAM, not bytes sent
    assert_no_canary(lab)


def test_ipv6_only_migration_network_round_trip_takes_the_fast_link(lab_scenario: Any, tmp_path: Path) -> None:
    """The fast links carry only IPv6 and migration_host is a name with an AAAA record: QEMU
    connects over IPv6, and the byte counters name the fast links both ways."""
    lab = lab_scenario("ipv6")
    done, report = migrate_test(tmp_path, "--canary-memory", "128")
    (finding,) = report["pairs"][0]["findings"]
    assert done.returncode == 0 and finding["status"] == "pass", finding
    there, back = report["pairs"][0]["migration_trial"]["legs"]
    assert (there["source_link"], there["destination_link"]) == ("a-fast", "b-fast")
    assert (back["source_link"], back["destination_link"]) == ("b-fast", "a-fast")
    assert within(there["rate_mbps"], SHAPING_MBPS["fast"]), there
    assert_no_canary(lab)


def test_bridged_migration_names_the_bridge_and_the_port_that_carried_it(lab_scenario: Any, tmp_path: Path) -> None:
    lab = lab_scenario("bridged")
    done, report = migrate_test(tmp_path, "--canary-memory", "128", "--one-way")
    (finding,) = report["pairs"][0]["findings"]
    assert done.returncode == 0 and finding["status"] == "pass", finding
    assert "the canary crossed hosta br-mig (a-fast) -> hostb br-mig (b-fast)" in finding["summary"]
    assert within(report["pairs"][0]["migration_trial"]["legs"][0]["rate_mbps"], SHAPING_MBPS["fast"])
    assert_no_canary(lab)


@contextmanager
def plain_virsh_migration(lab: Any, payload_mib: int, memory_mib: int) -> Iterator[subprocess.Popen[bytes]]:
    """A canary on hosta migrating to hostb with plain `virsh migrate --live --p2p`, under way when
    yielded; the canary and its payload are removed afterwards."""
    payload = write_payload(layout.STATE_DIR / "watch-payload.bin", payload_mib)
    src = lab.libvirt("hosta")
    try:
        canary.start(src, payload, WATCHED, memory_mib)
        uri = lab.inventory()["hosts"]["hostb"]["libvirt_uri"]
        argv = [*lab_exec("hosta"), "virsh", "migrate", "--live", "--p2p", WATCHED, uri]
        migration = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        wait_for_canary_job(lab)
        yield migration
    finally:
        canary.remove(src, WATCHED)
        canary.remove(lab.libvirt("hostb"), WATCHED)
        payload.unlink()


def test_watch_names_the_link_of_a_plain_virsh_migration(lab_scenario: Any, tmp_path: Path) -> None:
    with plain_virsh_migration(lab_scenario("seed"), 64, 128) as migration:
        summary_file = tmp_path / "watch.json"
        command = f"{MIGDOCTOR} watch hosta hostb --output {summary_file}"  # on a terminal: the live view too
        watched = subprocess.run(
            ["script", "-qfec", command, "/dev/null"],
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, "COLUMNS": "160", "TERM": "xterm"},
        )
        assert migration.wait(timeout=60) == 0, migration.stderr.read() if migration.stderr else ""
        summary = json.loads(summary_file.read_text())
        assert watched.returncode == 0, watched.stdout
        assert (summary["source_link"], summary["destination_link"]) == ("a-lan", "b-lan"), summary
        assert summary["source_tx_bytes"] > 32 * MIB
        assert "a-lan -> hostb b-lan" in watched.stdout
        assert "Mb/s (libvirt)" in watched.stdout and "hosta: a-fast" in watched.stdout  # live per-link rates


def test_watch_ends_on_ctrl_c_with_its_summary(lab_scenario: Any) -> None:
    with plain_virsh_migration(lab_scenario("seed"), 128, 256) as migration:
        watcher = subprocess.Popen(
            [MIGDOCTOR, "watch", "hosta", "hostb", "--domain", WATCHED],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert watcher.stdout is not None
        assert watcher.stdout.readline().startswith("watching hosta -> hostb")  # watching, not still starting
        watcher.send_signal(signal.SIGINT)
        out, err = watcher.communicate(timeout=30)
        assert watcher.returncode == 0, err
        assert "a-lan -> hostb b-lan" in out and out.rstrip().endswith("(interrupted)")
        migration.wait(timeout=60)


def test_watch_with_nothing_to_watch_exits_cleanly(lab_scenario: Any) -> None:
    lab_scenario("seed")
    watched = subprocess.run([MIGDOCTOR, "watch", "hosta", "hostb"], capture_output=True, text=True, timeout=30)
    assert watched.returncode == 0 and "nothing to watch" in watched.stdout


def lab_exec(host: str) -> list[str]:
    from migdoctor import lab as lab_api

    return lab_api.exec_prefix(host)


def test_progress_bar_on_a_terminal_shows_throughput_and_link(lab_scenario: Any, tmp_path: Path) -> None:
    lab = lab_scenario("healthy")
    command = f"{MIGDOCTOR} migrate-test hosta hostb --one-way --canary-memory 128 --output {tmp_path / 'r.json'}"
    shown = subprocess.run(
        ["script", "-qfec", command, "/dev/null"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COLUMNS": "160", "TERM": "xterm"},
    )
    assert shown.returncode == 0, shown.stdout
    assert "hosta -> hostb" in shown.stdout and "via hosta a-fast" in shown.stdout
    assert "/s" in shown.stdout  # the transfer speed column
    assert_no_canary(lab)


def test_named_domain_with_uri_override_is_migrated_and_nothing_else_touched(lab_scenario: Any, tmp_path: Path) -> None:
    """--domain NAME --yes moves that guest (and leaves it running where it went: it is the
    admin's); --migrate-uri beats the seed's LAN name; a bystander guest is not touched."""
    lab = lab_scenario("seed")
    payload = write_payload(layout.STATE_DIR / "named-payload.bin", 64)
    src, dst = lab.libvirt("hosta"), lab.libvirt("hostb")
    try:
        canary.start(src, payload, "existing-guest", 128)
        canary.start(src, None, "bystander", 64)
        done, report = migrate_test(
            tmp_path, "--domain", "existing-guest", "--yes", "--one-way", "--migrate-uri", "tcp://hostb-fast.lab.test"
        )
        leg = report["pairs"][0]["migration_trial"]["legs"][0]
        assert done.returncode == 0, report["pairs"][0]["findings"]
        assert (leg["source_link"], leg["destination_link"]) == ("a-fast", "b-fast")
        assert report["pairs"][0]["migration_trial"]["migrate_uri"] == "tcp://hostb-fast.lab.test"
        assert dst.lookupByName("existing-guest").isActive()
        assert src.lookupByName("bystander").isActive()
        assert [d.name() for d in src.listAllDomains()] == ["bystander"]
    finally:
        for conn in (src, dst):
            for name in ("existing-guest", "bystander"):
                canary.remove(conn, name)
        payload.unlink()


def test_destination_without_kvm_is_refused_before_anything_changes(lab_scenario: Any, tmp_path: Path) -> None:
    lab = lab_scenario("no-kvm-destination")
    done = subprocess.run(
        [MIGDOCTOR, "migrate-test", "hosta", "hostb", "--output", str(tmp_path / "r.json")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stderr.startswith("migdoctor: hostb: cannot run a kvm x86_64 'pc' canary: ")
    assert_no_canary(lab)
    check = subprocess.run(
        [
            MIGDOCTOR,
            "check",
            "hosta",
            "hostb",
            "--only",
            "compat",
            "--no-probe",
            "--format",
            "json",
            "--output",
            str(tmp_path / "c.json"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    (finding,) = json.loads(check.stdout)["pairs"][0]["findings"]
    assert finding["status"] == "fail" and "hypervisors differ: hosta ['kvm'], hostb none" in finding["summary"]
