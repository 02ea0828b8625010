"""hostb's firewall set up by the tools admins use (firewalld, ufw, iptables-legacy), judged by
`migdoctor check hosta hostb` through the real CLI: each scenario's firewall findings PASS, WARN or
FAIL as it says, naming the zone, rule or ports, never "cannot tell"; where a port of the range is
blocked the probe fails too, naming the port. And what these tools write stays in the host.
"""

import hashlib
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from test_check_lab import check, told

from migdoctor.lab import layout, procs, state

pytestmark = pytest.mark.lab

FIREWALL_CHECKS = ("firewall.migration-ports", "firewall.libvirt-ports")
MACHINE_FILES = ("/etc/ufw/ufw.conf", "/etc/ufw/user.rules", "/etc/default/ufw", "/etc/firewalld/firewalld.conf")


@dataclass(frozen=True)
class Firewall:
    scenario: str
    migration_ports: str  # firewall.migration-ports' status
    says: tuple[str, ...]  # in that finding's summary, remediation or evidence
    probe: str = "pass"
    probe_says: str = ""  # in the probe's summary

    def __str__(self) -> str:
        return self.scenario


LAST_PORT_DROPPED = (
    "reached hostb-fast.lab.test:49152 but not hostb-fast.lab.test:49215, the last port of the migration range, "
    "on hostb: TimeoutError: timed out"
)
FIREWALLS = [
    Firewall("firewalld", "pass", ("zone public", "49152-49215")),
    Firewall(
        "firewalld-wrong-zone",
        "fail",
        (
            "zone internal",
            "b-fast",
            "firewall-cmd --permanent --zone=internal --add-port=49152-49215/tcp && firewall-cmd --reload",
        ),
        probe="fail",  # firewalld's reject: icmp admin-prohibited, on both ports
        probe_says="could not reach hostb-fast.lab.test:49152 on hostb: OSError: No route to host; "
        "nor hostb-fast.lab.test:49215: OSError: No route to host",
    ),
    Firewall("firewalld-runtime-only", "warn", ("zone public", "permanent")),
    Firewall("ufw", "pass", ("ufw-user-input", "49152:49215")),
    Firewall(
        "ufw-partial-port-range",
        "fail",
        (
            "49200-49215 (drop)",
            "ufw-user-input",
            "ufw's default incoming policy",
            "ufw allow in on b-fast proto tcp to any port 49152:49215",
        ),
        probe="fail",  # ufw's default deny drops the last port: its connection times out
        probe_says=LAST_PORT_DROPPED,
    ),
    Firewall(
        "iptables-legacy",
        "pass",
        ("iptables-legacy filter INPUT", "-A INPUT -i b-fast -p tcp -m tcp --dport 49152:49215 -j ACCEPT"),
    ),
    Firewall(
        "iptables-legacy-partial-port-range",
        "fail",
        (
            "49184-49215 (drop)",
            "policy drop of chain iptables-legacy filter INPUT",
            "-A INPUT -i b-fast -p tcp -m tcp --dport 49152:49183 -j ACCEPT",
            "iptables-legacy -I INPUT -i b-fast -p tcp --dport 49152:49215 -j ACCEPT",  # the tables the rules are in
        ),
        probe="fail",
        probe_says=LAST_PORT_DROPPED,
    ),
]


@pytest.mark.parametrize("firewall", FIREWALLS, ids=str)
def test_firewall_set_up_by_its_own_tools_is_judged_as_the_scenario_says(lab_scenario, tmp_path, firewall):
    lab_scenario(firewall.scenario)
    run = check(tmp_path)

    finding = run.finding("firewall.migration-ports")
    assert finding["status"] == firewall.migration_ports, finding
    for text in firewall.says:
        assert text in told(finding), f"{text!r} not in {told(finding)}"
    for check_id in FIREWALL_CHECKS:
        assert "cannot tell" not in run.finding(check_id)["summary"], run.finding(check_id)
    libvirt = run.finding("firewall.libvirt-ports")  # ssh and libvirt are open in every one of them
    assert libvirt["status"] == "pass", libvirt

    probe = run.finding("probe.migration-port")
    assert probe["status"] == firewall.probe and firewall.probe_says in probe["summary"], probe
    assert run.with_status("error") == set()
    expected_failures = {"firewall.migration-ports", "probe.migration-port"} if firewall.probe == "fail" else set()
    assert run.with_status("fail") == expected_failures
    assert run.done.returncode == (1 if expected_failures else 0), run.done.stderr


def machine_state() -> dict[str, str | bool]:
    """The machine's own copies of what the firewall tools write, and their lock files."""
    found: dict[str, str | bool] = {}
    for name in MACHINE_FILES:
        path = Path(name)
        found[name] = f"{hashlib.sha256(path.read_bytes()).hexdigest()} {path.stat().st_mtime_ns}"
    for name in (*layout.FIREWALL_LOCKS, "/run/dbus/system_bus_socket", "/run/firewalld"):
        found[name] = Path(name).exists()
    return found


def lab_namespaces() -> list[str]:
    listing = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=True).stdout
    return [line.split()[0] for line in listing.splitlines() if line.startswith(layout.PREFIX)]


def firewall_daemons_alive(pids: list[int]) -> list[int]:
    return [pid for pid in pids if procs.alive(pid) and procs.comm(pid) in ("firewalld", "dbus-daemon")]


def test_ufw_and_firewalld_write_only_inside_hostb_and_leave_nothing_when_it_goes(lab):
    lab.down()  # the machine as it is without a lab (a lab up has created its mount points)
    before = machine_state()
    try:
        lab.use("ufw")
        assert "Status: active" in lab.run("hostb", "ufw", "status").stdout
        assert "ENABLED=yes" in lab.run("hostb", "cat", "/etc/ufw/ufw.conf").stdout
        assert machine_state()["/etc/ufw/ufw.conf"] == before["/etc/ufw/ufw.conf"]

        lab.use("firewalld")
        assert lab.run("hostb", "firewall-cmd", "--state").stdout.strip() == "running"
        assert "49152-49215/tcp" in lab.run("hostb", "firewall-cmd", "--permanent", "--list-ports").stdout
        pids = state.pids(state.load(), "hostb")
        daemons = [pids["firewalld"], pids["dbus"]]
        assert all(procs.in_netns(pid, "mdlab-hostb") for pid in daemons), pids
        assert not Path("/run/dbus/system_bus_socket").exists() or before["/run/dbus/system_bus_socket"]
    finally:
        lab.down()
    assert lab_namespaces() == []
    assert firewall_daemons_alive(daemons) == []
    assert machine_state() == before


def test_down_after_up_was_killed_ends_firewalld_and_its_dbus_by_the_pids_up_recorded(lab):
    """`lab up` SIGKILLed once hostb's firewalld is recorded (the lab half built, no clean-up run):
    `lab down`, a new process, ends both daemons and leaves nothing."""
    lab.down()
    before = machine_state()
    up = subprocess.Popen(
        [sys.executable, "-m", "migdoctor", "lab", "up", "--scenario", "firewalld"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while "firewalld" not in state.pids(state.load(), "hostb"):
            assert up.poll() is None and time.monotonic() < deadline, "lab up ended before starting firewalld"
            time.sleep(0.02)
        os.kill(up.pid, signal.SIGKILL)
    finally:
        up.wait()
    recorded = state.pids(state.load(), "hostb")
    daemons = [recorded["firewalld"], recorded["dbus"]]
    assert firewall_daemons_alive(daemons) == daemons  # killing `up` left them running
    done = lab.cli("down")
    assert done.returncode == 0, done.stderr
    assert lab_namespaces() == []
    assert firewall_daemons_alive(daemons) == []
    assert machine_state() == before
    assert state.load() == {}
