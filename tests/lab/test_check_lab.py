"""`migdoctor check hosta hostb` against the lab's real daemons, through the real CLI.

Healthy passes every check; the forum thread's seed fails dns.migration-host-address and shows
the LAN path; each fault scenario fails the check that names its cause, with evidence naming the
host, the file or link, and the value. Tests are grouped by scenario (seed, the session's first,
then healthy, then one test per fault scenario), so the lab is re-created once per scenario.
"""

import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from migdoctor.lab import inventory as lab_inventory
from migdoctor.report.document import validate_report

pytestmark = pytest.mark.lab

MIGDOCTOR = str(Path(sys.prefix) / "bin" / "migdoctor")
QEMU_CONF = "/etc/libvirt/qemu.conf"


@dataclass
class Run:
    """One `migdoctor check` run: the process and the report it wrote."""

    done: subprocess.CompletedProcess[str]
    report: dict[str, Any]
    output: Path

    def finding(self, check_id: str) -> dict[str, Any]:
        (found,) = [f for f in self.report["pairs"][0]["findings"] if f["id"] == check_id]
        return found

    def with_status(self, *statuses: str) -> set[str]:
        return {f["id"] for f in self.report["pairs"][0]["findings"] if f["status"] in statuses}


def check(tmp_path: Path, *args: str, output_format: str = "json", inventory: Path | None = None) -> Run:
    """`migdoctor check hosta hostb --format FORMAT --output FILE ARGS` as an admin runs it."""
    output = tmp_path / f"report-{len(list(tmp_path.glob('report-*.json')))}.json"
    argv = [MIGDOCTOR, "check", "hosta", "hostb", "--format", output_format, "--output", str(output), *args]
    if inventory:
        argv += ["--inventory", str(inventory)]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    assert output.exists(), done.stderr
    report = json.loads(output.read_text())
    if output_format == "json":
        assert json.loads(done.stdout) == report
    return Run(done, report, output)


def told(finding: dict[str, Any]) -> str:
    """Everything a finding says to the admin, as one text to look for names and values in."""
    return " ".join([finding["summary"], finding["remediation"] or "", json.dumps(finding["evidence"])])


def validates(path: Path) -> None:
    done = subprocess.run([MIGDOCTOR, "report", "validate", str(path)], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "valid migdoctor report" in done.stdout


# --- seed: the forum thread -------------------------------------------------------------------


@pytest.fixture
def seed(lab_scenario):
    return lab_scenario("seed")


def test_seed_fails_migration_host_address_and_shows_the_lan_path(seed, tmp_path):
    run = check(tmp_path)
    assert run.done.returncode == 1
    report = run.report
    assert run.with_status("fail") == {
        "dns.migration-host-address",
        "config.migration-port-range",  # Debian's default: the range sits in the ephemeral ports
        "probe.migration-port",
    }
    assert run.with_status("warn") == {"listen.migration-address"}
    assert run.with_status("error") == set()

    address = run.finding("dns.migration-host-address")
    assert "hostb.lab.test (hostname (migration_host unset)) resolves on hosta to 192.0.2.2" in address["summary"]
    assert address["evidence"] == [
        {"host": "hosta", "item": "getaddrinfo(hostb.lab.test)", "actual": ["192.0.2.2"], "expected": ["198.51.100.2"]}
    ]
    assert address["remediation"] == 'hostb:/etc/libvirt/qemu.conf: migration_host = "hostb-fast.lab.test"'

    path = report["pairs"][0]["path"]
    assert "hosta a-lan 192.0.2.1" in path["text"] and "hostb 192.0.2.2:49152-49215" in path["text"]
    assert path["name_origin"] == "hostname (migration_host unset)"
    assert path["on_migration_network"] is False
    assert (path["source_link"], path["destination_link"]) == ("a-lan", "b-lan")

    probe = {e["item"]: e["actual"] for e in run.finding("probe.migration-port")["evidence"]}
    assert probe["link that sent the bytes"] == "a-lan" and probe["link that received the bytes"] == "b-lan"
    assert 0 < probe["throughput sample (Mb/s)"] < 120  # the LAN's 100 Mb/s shaping, not the fast link

    assert report["pairs"][0]["intent"]["migration_network"] == "198.51.100.0/24"
    assert report["exit_status"] == 1 and report["not_checked"] == []
    validates(run.output)


def test_seed_markdown_lists_an_ignored_finding_under_accepted_risks_with_its_reason(seed, tmp_path):
    reason = "CHG-1 moves hostb to its fast name"
    run = check(tmp_path, "--ignore", f"dns.migration-host-address={reason}", output_format="markdown")
    assert run.done.returncode == 1  # the port range and the probe still fail
    markdown = run.done.stdout
    assert "# Migration path check: hosta -> hostb" in markdown
    findings, accepted = markdown.split("## Accepted risks")
    assert "### FAIL `probe.migration-port`" in findings and "### FAIL `dns.migration-host-address`" not in findings
    assert "| FAIL | `dns.migration-host-address` | hostb.lab.test (hostname" in accepted and reason in accepted
    assert "- On the migration network: **NO**" in markdown
    assert run.report["accepted_risks"] == [{"id": "dns.migration-host-address", "reason": reason}]

    ignored = run.finding("dns.migration-host-address")
    assert ignored["status"] == "fail" and ignored["ignored"] is True
    assert ignored["remediation"] == 'hostb:/etc/libvirt/qemu.conf: migration_host = "hostb-fast.lab.test"'
    assert [f["id"] for f in run.report["pairs"][0]["findings"] if f["ignored"]] == ["dns.migration-host-address"]
    assert run.report["totals"]["ignored"] == 1 and run.report["totals"]["fail"] == 2
    validates(run.output)


def test_unreachable_destination_exits_2_names_it_and_still_writes_the_report(seed, tmp_path):
    inventory = seed.inventory_copy(tmp_path, transport="ssh://root@hostb:2222")  # nothing listens there
    run = check(tmp_path, inventory=inventory)
    assert run.done.returncode == 2
    (line,) = run.done.stderr.splitlines()
    assert line.startswith("migdoctor: hostb: ssh to root@hostb failed:")
    assert line.endswith("port 2222: Connection refused")
    report = run.report
    assert report["exit_status"] == 2 and report["pairs"][0]["findings"] == [] and report["pairs"][0]["path"] is None
    destination = report["hosts"]["hostb"]
    assert destination["reached"] is False and destination["error"] == line.removeprefix("migdoctor: ")
    assert report["hosts"]["hosta"]["reached"] is True
    assert report["not_checked"][0] == destination["error"]
    assert report["not_checked"][1].startswith("no check ran:")
    validates(run.output)


# --- healthy ------------------------------------------------------------------------------------


@pytest.fixture
def healthy(lab_scenario):
    return lab_scenario("healthy")


def test_healthy_passes_every_check(healthy, tmp_path):
    run = check(tmp_path, "--min-link-speed", "1000")
    assert run.done.returncode == 0, run.done.stdout
    report = run.report
    assert run.with_status("fail", "warn", "error") == set()
    skipped = {f["id"]: f["summary"] for f in report["pairs"][0]["findings"] if f["status"] == "skip"}
    assert skipped.pop("xen.relocation-server") == "hostb has no /etc/xen/xend-config.sxp: not a xend host"
    assert skipped.pop("xen.hosts-allow") == "hostb has no /etc/xen/xend-config.sxp: not a xend host"
    for check_id in ("tls.server-names", "tls.validity", "tls.chain"):  # the healthy lab migrates over qemu+ssh
        assert skipped.pop(check_id).startswith("no TLS on the migration path")
    assert all("not run" in summary for summary in skipped.values()), skipped  # only what needs asking for
    assert run.finding("link.speed")["status"] == "pass"

    path = report["pairs"][0]["path"]
    assert (
        path["text"] == "hosta a-fast 198.51.100.1 (1000 Mb/s) -> hostb 198.51.100.2:49152-49215 (hostb-fast.lab.test)"
    )
    assert path["on_migration_network"] is True and path["destination_link"] == "b-fast"
    probe = run.finding("probe.migration-port")
    assert "crossed hosta a-fast -> hostb b-fast" in probe["summary"]
    assert "hostb-fast.lab.test:49215, the last port of the range, accepted a connection too" in probe["summary"]
    links = {e["item"]: e["actual"] for e in probe["evidence"]}
    assert links["link that sent the bytes"] == "a-fast" and links["link that received the bytes"] == "b-fast"
    assert report["not_checked"] == [] and report["exit_status"] == 0
    validates(run.output)


def test_inverted_port_range_waiting_for_a_restart_is_caught(lab_scenario, tmp_path):
    """libvirtd refuses to start with migration_port_min above migration_port_max, so the scenario
    saves the inversion after the daemon started: caught before the next restart breaks it."""
    lab_scenario("port-range-inverted")
    run = check(tmp_path, "--only", "config", "--no-probe")
    assert run.done.returncode == 1
    assert [(f["id"], f["status"]) for f in run.report["pairs"][0]["findings"]] == [
        ("config.value-types", "pass"),
        ("config.migration-port-range", "fail"),
    ]
    finding = run.finding("config.migration-port-range")
    assert finding["status"] == "fail"
    assert "migration_port_min 49215 is above migration_port_max 49152" in finding["summary"]
    assert f"hostb:{QEMU_CONF}: migration_port_min = 49152, migration_port_max = 49215" in finding["remediation"]
    assert finding["evidence"][0]["actual"] == "49215-49152"


# --- fault scenarios: one test each, the named check fails and says where and what ---------------


@dataclass(frozen=True)
class Fault:
    scenario: str
    check_id: str
    says: tuple[str, ...]  # in the finding's summary, remediation or evidence
    may_also_fail: frozenset[str] = frozenset()  # consequences of the same fault
    probe: str = "pass"
    probe_says: str = ""  # in the probe's summary
    path: str | None = None  # in the predicted path's text
    inventory: dict[str, str] = field(default_factory=dict)  # hostb's inventory keys to change
    not_checked: tuple[str, ...] = ()

    def __str__(self) -> str:
        return self.scenario


FAULTS = [
    Fault(
        "hosts-override",
        "dns.hosts-file-override",
        (
            "hosta:/etc/hosts line 3 maps hostb-fast.lab.test to 192.0.2.2 but DNS says 198.51.100.2",
            "hosta:/etc/hosts line 3: remove the line for hostb-fast.lab.test, or make it 198.51.100.2",
        ),
        frozenset({"dns.migration-host-address", "dns.forward-reverse"}),
        probe="fail",
        path="hosta a-lan 192.0.2.1 (100 Mb/s) -> hostb 192.0.2.2:49152-49215 (hostb-fast.lab.test)",
    ),
    Fault(
        "loopback-hostname",
        "dns.migration-host-not-loopback",
        (
            "hostb.lab.test resolves to loopback 127.0.1.1 on hosta",
            "hosta:/etc/hosts line 3: remove hostb.lab.test from the 127.0.1.1 line",
        ),
        frozenset({"dns.migration-host-address", "dns.hosts-file-override", "dns.forward-reverse"}),
        probe="fail",
        path="-> hostb 127.0.1.1:49152-49215 (hostb.lab.test)",
    ),
    Fault(
        "bad-migration-address",
        "listen.migration-address",
        (
            "hostb's migration_address 198.51.100.1 is not assigned on hostb",
            f'hostb:{QEMU_CONF}: migration_address = "198.51.100.2"',
        ),
        probe="fail",  # as QEMU's incoming socket would, the probe's listener cannot bind there
        probe_says="the probe could not start: hostb: probe listener did not start: cannot listen on 198.51.100.1",
    ),
    Fault(
        "firewall-blocks-fast",
        "firewall.migration-ports",
        (
            "hostb's firewall blocks migration ports 49152-49215 (reject)",
            "to 198.51.100.2 on b-fast",
            'nft insert rule inet filter input iifname "b-fast" ip saddr 198.51.100.1 tcp dport 49152-49215 accept',
        ),
        probe="fail",
    ),
    Fault(
        "partial-port-range",
        "firewall.migration-ports",
        (
            "blocks migration ports 49200-49215 (reject) of 49152-49215",
            'iifname \\"b-fast\\" tcp dport 49152-49199 accept',
        ),
        probe="fail",  # the first port is open, the last one (a later, concurrent migration's) refused
        probe_says="reached hostb-fast.lab.test:49152 but not hostb-fast.lab.test:49215, the last port of the "
        "migration range, on hostb: ConnectionRefusedError: Connection refused",
    ),
    Fault(
        "route-via-lan",
        "route.egress-interface",
        (
            "hosta reaches 198.51.100.2 by a-lan, not by its migration link a-fast",
            "dev a-lan via 192.0.2.2",
            "hosta: remove the route to 198.51.100.2 by a-lan (ip route del 198.51.100.2)",
        ),
        probe="fail",  # hostb admits migrations on b-fast only; they arrive on b-lan
        path="hosta a-lan 192.0.2.1 (100 Mb/s) via 192.0.2.2 -> hostb 198.51.100.2:49152-49215",
    ),
    Fault(
        "mtu-mismatch",
        "link.mtu",
        ("MTU differs: hosta a-fast 1500, hostb b-fast 9000", "hosta: ip link set a-fast mtu 9000"),
    ),
    Fault(
        "fast-link-down",
        "link.state",
        ("hostb's migration link b-fast is DOWN (administratively down)", "hostb: ip link set b-fast up"),
        frozenset({"route.return-path"}),  # a link that is down takes its connected route with it
        probe="fail",
    ),
    Fault(
        "libvirt-listen-off",
        "listen.libvirt-remote",
        (
            "nothing listens on hostb:16509 (192.0.2.2), where qemu+tcp://hostb.lab.test/system connects",
            '"listen_tcp": 0',
            "hostb:/etc/libvirt/libvirtd.conf: listen_tcp = 1",
        ),
        inventory={"libvirt_uri": "qemu+tcp://hostb.lab.test/system"},
        may_also_fail=frozenset({"trust.peer-connection"}),  # hosta's libvirtd cannot connect either
    ),
    Fault(
        "port-range-unreserved",
        "config.migration-port-range",
        (
            "range 50000-50063 overlaps the ephemeral ports 32768-60999",
            "hostb:/etc/sysctl.d/migration.conf: net.ipv4.ip_local_reserved_ports = 50000-50063",
        ),
        path="-> hostb 198.51.100.2:50000-50063 (hostb-fast.lab.test)",
    ),
    Fault(
        "jumbo-path",
        "link.path-mtu",
        (
            "packets above 1500 bytes with don't-fragment do not reach hostb 198.51.100.2 from hosta, "
            "though both migration links take 9000",
            "nothing on the path said so",
            '"item": "largest don\'t-fragment packet to 198.51.100.2 (icmp)", "actual": 1500, "expected": 9000',
            "between hosta a-fast and hostb b-fast pass 9000-byte frames",
        ),
        probe="fail",  # the connection opens, then its 8960-byte segments vanish at the switch
        probe_says="connected to 198.51.100.2, sent",
    ),
    Fault(
        "dual-stack-wrong-first",
        "dns.migration-host-address",
        (
            "hostb-fast.lab.test is dual-stack: getaddrinfo on hosta answers its IPv6 address 2001:db8:0:2::2 first",
            "its IPv4 address 198.51.100.2 is on it. Fix the IPv6 side",
            "DNS: the AAAA record hostb-fast.lab.test -> 2001:db8:0:2::2: remove it",
            'hostb:/etc/libvirt/qemu.conf: migration_host = "198.51.100.2"',
            '"actual": ["2001:db8:0:2::2", "198.51.100.2"]',
        ),
        probe="fail",  # QEMU (and the probe) listen on :: with migration_address unset: the LAN answer accepts
        path="hosta a-lan 2001:db8:0:2::1 (100 Mb/s) -> hostb [2001:db8:0:2::2]:49152-49215 (hostb-fast.lab.test)",
    ),
    Fault(
        "xen-hosts-allow",
        "xen.hosts-allow",
        (
            "no xend-relocation-hosts-allow pattern on hostb matches hosta (198.51.100.1, hosta-fast.lab.test",
            '["^localhost$", "^hostc\\\\.lab\\\\.test$"]',
            # pasted into the file, xend must read \. back: the remediation doubles the backslashes
            "hostb:/etc/xen/xend-config.sxp: (xend-relocation-hosts-allow "
            "'^localhost$ ^hostc\\\\.lab\\\\.test$ ^198\\\\.51\\\\.100\\\\.1$')",
        ),
        not_checked=("hostb: Xen relocation itself not tried: no xend runs there",),
    ),
]


@pytest.mark.parametrize("fault", FAULTS, ids=str)
def test_fault_scenario_fails_the_check_that_names_its_cause(lab_scenario, tmp_path, fault):
    lab = lab_scenario(fault.scenario)
    inventory = lab.inventory_copy(tmp_path, **fault.inventory) if fault.inventory else None
    run = check(tmp_path, inventory=inventory)
    assert run.done.returncode == 1, run.done.stderr

    finding = run.finding(fault.check_id)
    assert finding["status"] == "fail", finding
    for text in fault.says:
        assert text in told(finding), f"{text!r} not in {told(finding)}"
    assert {e["host"] for e in finding["evidence"]} <= {"hosta", "hostb"} and finding["evidence"]

    probe = run.finding("probe.migration-port")
    assert probe["status"] == fault.probe and fault.probe_says in probe["summary"], probe
    failed = run.with_status("fail")
    probe_related = {"probe.migration-port"} if fault.probe == "fail" else set()
    assert {fault.check_id} | probe_related <= failed <= {fault.check_id} | probe_related | fault.may_also_fail
    assert run.with_status("error") == set()
    if fault.path:
        assert fault.path in run.report["pairs"][0]["path"]["text"]
    for reason in fault.not_checked:
        assert any(line.startswith(reason) for line in run.report["not_checked"]), run.report["not_checked"]
    validate_report(run.report)


def test_a_run_leaves_no_ssh_connection_behind(lab_scenario, tmp_path):
    """The shared SSH connections of a run are closed at its end, their sockets removed: looked for
    in the run's own temporary directory, where no other process's run can leave one."""
    lab_scenario("healthy")
    run_tmp = tmp_path / "tmp"
    run_tmp.mkdir()
    argv = [MIGDOCTOR, "check", "hosta", "hostb", "--only", "dns", "--output", str(tmp_path / "r.json")]
    argv += ["--inventory", str(lab_inventory.FILE)]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120, env={**os.environ, "TMPDIR": str(run_tmp)})
    assert (tmp_path / "r.json").exists(), done.stderr
    masters = subprocess.run(["pgrep", "-af", f"{run_tmp}/migdoctor-ssh-"], capture_output=True, text=True).stdout
    assert masters.strip() == ""
    assert list(run_tmp.iterdir()) == []


# --- IPv6: healthy variants ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("scenario", "path", "network"),
    [
        (
            "ipv6",
            "hosta a-fast 2001:db8:0:100::1 (1000 Mb/s) -> hostb [2001:db8:0:100::2]:49152-49215 (hostb-fast.lab.test)",
            "2001:db8:0:100::/64",
        ),
        (
            "ipv6-literal",
            "hosta a-fast 2001:db8:0:100::1 (1000 Mb/s) -> hostb [2001:db8:0:100::2]:49152-49215 (2001:db8:0:100::2)",
            "198.51.100.0/24, 2001:db8:0:100::/64",
        ),
    ],
)
def test_ipv6_migration_networks_pass_every_check(lab_scenario, tmp_path, scenario, path, network):
    """An IPv6-only migration network with AAAA names, and an IPv6 literal as migration_host on a
    dual-stack link (a prefix per family): no false alarm, and the path is the fast link's IPv6."""
    lab_scenario(scenario)
    run = check(tmp_path, "--min-link-speed", "1000", output_format="text")
    assert run.done.returncode == 0, run.done.stdout
    assert run.with_status("fail", "warn", "error") == set()
    report = run.report
    assert report["pairs"][0]["path"]["text"] == path and report["pairs"][0]["path"]["on_migration_network"] is True
    assert report["pairs"][0]["intent"]["migration_network"] == network
    assert f"on the migration network {network}" in run.done.stdout  # no emoji made of ":100:"
    firewall = run.finding("firewall.migration-ports")
    assert "for TCP from 2001:db8:0:100::1 to 2001:db8:0:100::2 on b-fast" in firewall["summary"]
    assert "crossed hosta a-fast -> hostb b-fast" in run.finding("probe.migration-port")["summary"]
    assert run.finding("route.egress-interface")["summary"] == "hosta reaches 2001:db8:0:100::2 by dev a-fast"
    assert report["not_checked"] == []
    validates(run.output)


def test_migration_network_per_family_from_the_command_line(lab_scenario, tmp_path):
    """--migration-network takes an IPv4 and an IPv6 prefix; a third prefix, or two of one family,
    is refused with the value named before any host is judged."""
    lab_scenario("ipv6-literal")
    run = check(tmp_path, "--only", "dns", "--no-probe", "--migration-network", "2001:db8:0:100::/64,198.51.100.0/24")
    assert run.done.returncode == 0 and run.report["pairs"][0]["intent"]["decided_by"] == "--migration-network"
    assert run.report["pairs"][0]["intent"]["migration_network"] == "2001:db8:0:100::/64, 198.51.100.0/24"
    bad = subprocess.run(
        [MIGDOCTOR, "check", "hosta", "hostb", "--no-probe", "--migration-network", "198.51.100.0/24,192.0.2.0/24"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode == 2
    assert bad.stderr.strip() == (
        "migdoctor: --migration-network: migration network '198.51.100.0/24,192.0.2.0/24': "
        "at most one prefix per address family"
    )


# --- bridged: the migration address on a real Linux bridge over the fast veth --------------------


def test_bridge_stack_is_judged_through_to_its_port(lab_scenario, tmp_path):
    """br-mig holds the address and reports no speed; its port a-fast is shaped to 1000 Mb/s. The
    speed comes from the port, and the probe's bytes are named by the bridge and the port."""
    lab_scenario("bridged")
    run = check(tmp_path, "--min-link-speed", "1000")
    assert run.done.returncode == 0, run.done.stdout
    assert run.with_status("fail", "warn", "error") == set()
    speed = run.finding("link.speed")
    assert speed["summary"] == "migration links carry 1000 Mb/s, 1000 Mb/s (minimum 1000)"
    assert [e["item"] for e in speed["evidence"]] == [
        "link br-mig effective rate via br-mig (bridge) > a-fast (1000 Mb/s) (Mb/s)",
        "link br-mig effective rate via br-mig (bridge) > b-fast (1000 Mb/s) (Mb/s)",
    ]
    assert "crossed hosta br-mig (a-fast) -> hostb br-mig (b-fast)" in run.finding("probe.migration-port")["summary"]
    assert run.report["pairs"][0]["path"]["text"].startswith(
        "hosta br-mig 198.51.100.1 (1000 Mb/s) -> hostb 198.51.100.2:"
    )
    validates(run.output)


def test_path_mtu_falls_back_to_tcp_where_icmp_is_filtered(lab_scenario, tmp_path):
    """jumbo-path with hostb dropping echo requests: the probe clamps TCP segments instead, to a
    listener it opens where QEMU would, and still finds the switch's 1500."""
    lab = lab_scenario("jumbo-path")
    try:
        lab.run("hostb", "nft", "insert", "rule", "inet", "filter", "input", "icmp", "type", "echo-request", "drop")
        run = check(tmp_path, "--only", "link.path-mtu")
        finding = run.finding("link.path-mtu")
        assert finding["status"] == "fail", finding
        largest = finding["evidence"][0]
        assert (largest["item"], largest["expected"]) == ("largest don't-fragment packet to 198.51.100.2 (tcp)", 9000)
        # A Linux bridge forwards frames up to 4 bytes over its port MTU (room for a VLAN tag).
        assert 1500 <= largest["actual"] <= 1504, largest
    finally:
        lab.down()  # the inserted rule goes with the lab; the next test brings it up afresh
