"""The lab's hosts are bare, as production hypervisors are: OpenSSH and the distribution's python3
without pyroute2 or dnspython, no migdoctor. What migdoctor needs travels with each run and
nothing stays behind; admins log in as themselves and become root with sudo; every way the far
side cannot run is one line naming the host and what to do, exit status 2."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from migdoctor.lab import procs, users

pytestmark = pytest.mark.lab

MIGDOCTOR = str(Path(sys.prefix) / "bin" / "migdoctor")
FIREWALL_CHECKS = ("firewall.migration-ports", "firewall.libvirt-ports")


@pytest.fixture
def seed(lab_scenario):
    return lab_scenario("seed")


def far_side_processes() -> list[str]:
    """Every process on the machine that is, or carries, a migdoctor far side (the ssh client's
    argv holds the first stage; libvirt's ssh runs virt-ssh-helper or nc to the libvirt socket)."""
    found = []
    for pattern in ("migdoctor-far-side", "virt-ssh-helper", "migdoctor.farside"):
        listing = subprocess.run(["pgrep", "-af", pattern], capture_output=True, text=True).stdout
        found += [line for line in listing.splitlines() if "pgrep" not in line]
    return found


def leftover_files() -> list[Path]:
    return [*Path("/tmp").glob("migdoctor*"), *Path("/var/tmp").glob("migdoctor*")]


def assert_nothing_left(before: list[Path]) -> None:
    deadline = time.monotonic() + 5  # sshd ends a session's processes shortly after the client left
    while far_side_processes() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert far_side_processes() == []
    assert sorted(set(leftover_files()) - set(before)) == []


def migdoctor(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([MIGDOCTOR, *args], capture_output=True, text=True, timeout=timeout)


def refused(done: subprocess.CompletedProcess[str]) -> str:
    """The one line a refusal prints on stderr; exit status 2, no traceback (check still writes
    its report, saying which host was not reached, and names the report's default file)."""
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    (line,) = [line for line in done.stderr.splitlines() if not line.startswith("report: reports/")]
    return line


def check_findings(tmp_path: Path, inventory: Path, *args: str) -> dict[str, dict[str, Any]]:
    output = tmp_path / f"report-{len(list(tmp_path.glob('report-*')))}.json"
    done = migdoctor("check", "hosta", "hostb", "--inventory", str(inventory), "--output", str(output), *args)
    assert output.exists(), done.stderr
    return {finding["id"]: finding for finding in json.loads(output.read_text())["pairs"][0]["findings"]}


def test_hosts_are_bare_and_the_far_side_is_the_distributions_python3(seed):
    from migdoctor.transports import open_transports, resolve_host
    from migdoctor.transports.inventory import load_inventory

    for module in ("pyroute2", "dns"):
        done = seed.run("hostb", "/usr/bin/python3", "-c", f"import {module}", check=False)
        assert done.returncode == 1 and "ModuleNotFoundError" in done.stderr
    ssh = ["ssh", "-F", "/run/migdoctor-lab/ssh_config", "hostb"]
    assert subprocess.run([*ssh, "command -v migdoctor"], capture_output=True, timeout=30).returncode != 0
    assert "remote_command" not in seed.inventory()["hosts"]["hostb"]
    with open_transports([resolve_host("hostb", load_inventory())]) as (hostb,):
        record = hostb.call("facts")
        assert hostb.started().ready["executable"] == "/usr/bin/python3"
    assert sorted(link["name"] for link in record["links"]) == ["b-fast", "b-lan", "b-mgmt", "lo"]


def sshd_logins(host: str) -> int:
    from migdoctor.lab import layout

    log = layout.ALL_HOSTS[host].dir / "log" / "sshd.log"
    return log.read_text(errors="replace").count("Accepted publickey")


def test_libvirts_facts_ride_on_the_far_sides_ssh_connection(seed):
    """One SSH login per host and run: libvirt's qemu+ssh goes through the far side's connection
    (a ControlMaster in a private directory of the run, gone afterwards)."""
    before = leftover_files()
    logins = sshd_logins("hostb")
    done = migdoctor("facts", "hostb", "--json")
    assert done.returncode == 0, done.stderr
    libvirt = json.loads(done.stdout)["identity"]["hypervisor"]["libvirt"]
    assert libvirt["hostname"] == "hostb.lab.test"
    assert libvirt["uri"] == seed.inventory()["hosts"]["hostb"]["libvirt_uri"]  # the inventory's, not the route
    assert sshd_logins("hostb") - logins == 1
    assert_nothing_left(before)


def test_a_fleet_check_logs_in_once_per_host_and_once_per_ordered_pair(lab_scenario, tmp_path):
    """`check --all` on three hosts, probes and both rounds of look-ups included, no test migration:
    each host's sshd accepts the control node's one connection (the far side, carrying libvirt's
    too) and one peer connection from each of the two other hosts: 3 + 6 logins in all."""
    from migdoctor.lab import inventory
    from migdoctor.report.compact import expanded_pairs

    lab = lab_scenario("healthy", hosts=3)
    hosts = sorted(lab.inventory()["hosts"])
    assert hosts == ["hosta", "hostb", "hostc"]
    before = {host: sshd_logins(host) for host in hosts}
    output = tmp_path / "fleet.json"
    done = migdoctor("check", "--all", "--inventory", str(inventory.FILE), "--output", str(output))
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(output.read_text())
    assert len(report["pairs"]) == 6
    for pair in expanded_pairs(report):  # each pair's probe and peer connection ran, over SSH
        statuses = {f["id"]: f["status"] for f in pair["findings"]}
        assert statuses["probe.migration-port"] == "pass"
        (peer,) = [f for f in pair["findings"] if f["id"] == "trust.peer-connection"]
        assert peer["status"] == "pass", peer
    assert {host: sshd_logins(host) - before[host] for host in hosts} == {host: 3 for host in hosts}


def test_the_far_side_ends_cleanly_when_hung_up_on_right_after_its_answer(seed):
    """The worker that answered may still be returning from its write when stdin closes: the far
    side must still end with status 0, not CPython's abort at shutdown ("could not acquire lock for
    <stdout> at interpreter shutdown"), which took 1 s and left a crash on the host in 1 run of 5."""
    from migdoctor.transports import open_transports, resolve_host
    from migdoctor.transports.inventory import load_inventory

    for _ in range(12):
        with open_transports([resolve_host("hostb", load_inventory())]) as (hostb,):
            hostb.call("link-counters")
            far_side = hostb.started()
            far_side.hang_up()
            status = far_side.process.wait(timeout=10)
            assert status == 0, "\n".join(far_side.stderr_tail)


def test_a_libvirt_uri_that_cannot_be_opened_is_a_gap_and_its_checks_skip_with_libvirts_error(seed, tmp_path):
    inventory = seed.inventory_copy(tmp_path, libvirt_uri="qemu+tcp://203.0.113.2:1/system")
    findings = check_findings(tmp_path, inventory, "--no-probe")
    summary = findings["compat.versions"]["summary"]
    assert findings["compat.versions"]["status"] == "skip"
    assert summary.startswith("hostb: libvirt not collected: cannot open qemu+tcp://203.0.113.2:1/system: ")
    assert "Connection refused" in summary


def test_an_inventory_remote_command_not_installed_is_refused(seed, tmp_path):
    inventory = seed.inventory_copy(tmp_path, remote_command="/nonexistent/migdoctor")
    line = refused(migdoctor("facts", "hostb", "--json", "--inventory", str(inventory)))
    assert line == (
        "migdoctor: hostb: root@hostb: '/nonexistent/migdoctor' is not installed there; "
        "remove remote_command from the inventory to use python3 alone"
    )


def test_a_host_without_the_python3_is_refused_naming_it(seed, tmp_path):
    before = leftover_files()
    inventory = seed.inventory_copy(tmp_path, python="/opt/nowhere/python3")
    line = refused(migdoctor("check", "hosta", "hostb", "--inventory", str(inventory), "--format", "json"))
    assert line == (
        "migdoctor: hostb: root@hostb: no /opt/nowhere/python3 there: "
        "install python3 (3.9 or newer) or set python = PATH in the inventory"
    )
    assert_nothing_left(before)


def test_a_python3_older_than_3_9_is_refused(seed, tmp_path):
    """Debian 12 has no older Python: the real python3, told it is 3.8 before the first stage runs."""
    old = tmp_path / "python3.8"
    old.write_text(
        "#!/bin/sh\n"
        'exec /usr/bin/python3 -c \'import sys; sys.version_info = (3, 8, 18, "final", 0); exec(sys.argv[1])\' "$2"\n'
    )
    old.chmod(0o755)
    tmp_path.chmod(0o755)
    before = leftover_files()
    line = refused(migdoctor("facts", "hostb", "--inventory", str(seed.inventory_copy(tmp_path, python=str(old)))))
    assert line == (
        f"migdoctor: hostb: root@hostb: {old} is Python 3.8, migdoctor needs 3.9 or newer: "
        "install one there and set python = PATH in the inventory"
    )
    assert_nothing_left(before)


def read_only_temp(lab: Any, host: str, on: bool) -> None:
    """/tmp and /var/tmp read-only inside HOST's own mount namespace (the machine is untouched)."""
    for path in ("/tmp", "/var/tmp"):
        if on:
            lab.run(host, "mount", "--bind", path, path)
            lab.run(host, "mount", "-o", "remount,bind,ro", path)
        else:
            lab.run(host, "umount", path)


def test_a_read_only_tmp_needs_nothing_until_the_canary_payload_which_is_refused(seed, tmp_path):
    before = leftover_files()
    read_only_temp(seed, "hostb", True)
    try:
        assert migdoctor("facts", "hostb", "--json").returncode == 0  # the far side writes nothing
        line = refused(
            migdoctor("migrate-test", "hosta", "hostb", "--canary-memory", "128", "--output", str(tmp_path / "t.json"))
        )
    finally:
        read_only_temp(seed, "hostb", False)
    assert line.startswith(
        "migdoctor: hostb: far-side 'payload-write' failed: OSError: [Errno 30] Read-only file system"
    )
    assert line.endswith("the test migration needs 80 MiB writable in /var/tmp there")
    assert_no_canary(seed)
    assert_nothing_left(before)


def migrating(lab: Any, tmp_path: Path) -> subprocess.Popen[str]:
    """A `migrate-test` in the middle of its run: the canary is migrating from hosta."""
    argv = [MIGDOCTOR, "migrate-test", "hosta", "hostb", "--canary-memory", "256", "--output", str(tmp_path / "t.json")]
    run = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lab.wait_for_canary_migration()
    return run


def assert_no_canary(lab: Any) -> None:
    for host in ("hosta", "hostb"):
        assert (
            "migdoctor-canary" not in lab.run(host, "virsh", "-c", "qemu:///system", "list", "--all", "--name").stdout
        )


def test_a_far_side_killed_mid_run_is_one_line_and_the_canary_is_cleaned_up(seed, tmp_path):
    before = leftover_files()
    run = migrating(seed, tmp_path)
    seed.kill_far_sides("hostb")
    stdout, stderr = run.communicate(timeout=120)
    assert run.returncode == 2 and stdout == "" and "Traceback" not in stderr
    (line,) = stderr.splitlines()
    assert line.startswith("migdoctor: hostb: the far side ended unexpectedly") and "run again" in line
    assert_no_canary(seed)
    assert_nothing_left(before)


def test_sigterm_mid_run_leaves_no_ssh_process_far_side_or_file(seed, tmp_path):
    before = leftover_files()
    run = migrating(seed, tmp_path)
    children = subprocess.run(["pgrep", "-P", str(run.pid)], capture_output=True, text=True).stdout.split()
    assert children, "migdoctor started no ssh"
    run.send_signal(signal.SIGTERM)
    run.communicate(timeout=60)
    assert all(not procs.alive(int(pid)) for pid in children)
    assert_nothing_left(before)


def test_an_admin_with_passwordless_sudo_gets_the_same_findings_as_root(seed, tmp_path):
    as_root = check_findings(tmp_path, seed.inventory_copy(tmp_path))
    as_admin = check_findings(
        tmp_path, seed.inventory_copy(tmp_path, transport=f"ssh://{users.ADMIN}@hostb", become=True)
    )
    assert {i: f["status"] for i, f in as_admin.items()} == {i: f["status"] for i, f in as_root.items()}
    assert as_admin["firewall.migration-ports"]["status"] == "pass"


def test_without_become_the_firewall_checks_skip_naming_the_missing_root(seed, tmp_path):
    findings = check_findings(tmp_path, seed.inventory_copy(tmp_path, transport=f"ssh://{users.ADMIN}@hostb"))
    for check_id in FIREWALL_CHECKS:
        assert findings[check_id]["status"] == "skip"
        assert findings[check_id]["summary"] == (
            "hostb: firewall not collected: reading the ruleset needs root: "
            "set become = true in the inventory, or run with --become"
        )


def test_a_sudo_asking_for_a_password_fails_fast_with_one_line(seed, tmp_path):
    inventory = seed.inventory_copy(tmp_path, transport=f"ssh://{users.ASKS_PASSWORD}@hostb")
    started = time.monotonic()
    line = refused(migdoctor("facts", "hostb", "--become", "--inventory", str(inventory), timeout=30))
    assert time.monotonic() - started < 5
    assert line == (
        f"migdoctor: hostb: {users.ASKS_PASSWORD}@hostb: sudo asks for a password; become needs passwordless "
        "sudo (NOPASSWD) for python3, or run without become"
    )
