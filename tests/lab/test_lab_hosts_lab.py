"""Labs of three and four hosts, for real: every host ready after `lab up --hosts N` (links with
carrier, every host's names resolving in each, libvirtd and sshd answering), the networks
meeting on switches, and `evacuate-one-bad` judged with today's single-pair `check`: the fault
is found on exactly the pairs into hostc, and a test migration into hostc takes the LAN.

Tests are ordered so the lab is re-created once per (scenario, host count).
"""

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from migdoctor import lab as lab_api
from migdoctor.lab import layout, ssh
from migdoctor.report.compact import expanded_pairs
from migdoctor.report.document import validate_report

pytestmark = pytest.mark.lab

MIGDOCTOR = str(Path(sys.prefix) / "bin" / "migdoctor")
LAN_MBPS = 100


def names_of(count: int) -> list[str]:
    return list(layout.NAMES[:count])


def operstates(lab: Any, host: str) -> dict[str, str]:
    links = json.loads(lab.run(host, "ip", "-j", "link", "show").stdout)
    return {link["ifname"]: link["operstate"] for link in links if link["ifname"] != "lo"}


def resolved_in(lab: Any, host: str, names: list[str]) -> dict[str, str]:
    """name -> first IPv4 address, as getaddrinfo answers inside `host` (one shell for all)."""
    script = 'for n in "$@"; do printf "%s " "$n"; getent ahostsv4 "$n" | head -n1 | cut -d" " -f1; done'
    out = lab.run(host, "sh", "-c", script, "sh", *names).stdout
    return dict(line.split() for line in out.splitlines() if len(line.split()) == 2)


def check_done(tmp_path: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    """`migdoctor check ARGS` (one pair or many), as it ended, and its report."""
    output = tmp_path / "report.json"
    argv = [MIGDOCTOR, "check", *args, "--format", "json", "--output", str(output)]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=300)
    assert output.exists(), done.stderr
    return done, json.loads(output.read_text())


def check_run(tmp_path: Path, *args: str) -> tuple[int, dict[str, Any]]:
    """`migdoctor check ARGS`: its exit status and its report."""
    done, report = check_done(tmp_path, *args)
    return done.returncode, report


def pairs_of(report: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    """Each pair whole, by (source, destination): a run of several pairs writes the compact form."""
    return {(pair["source"], pair["destination"]): pair for pair in expanded_pairs(report)}


def statuses(pair: dict[str, Any], *wanted: str) -> set[str]:
    return {f["id"] for f in pair["findings"] if f["status"] in wanted}


TRIAL = ("--test-migration", "--only", "migration", "--no-probe", "--canary-memory", "128", "--one-way")


def assert_no_canary(lab: Any, hosts: list[str]) -> None:
    for host in hosts:
        listing = lab.run(host, "virsh", "-c", "qemu:///system", "list", "--all", "--name").stdout
        assert "migdoctor-canary" not in listing, f"{host}: {listing}"


def tcp_answer(lab: Any, host: str, ip: str, port: int) -> str:
    """How `ip:port` answers a TCP connect from inside `host`: connected, refused (the peer's
    kernel or firewall answered: it was reached), or the error that kept it from answering."""
    script = """
import socket, sys
try:
    socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=2).close()
    print("connected")
except ConnectionRefusedError:
    print("refused")
except OSError as e:
    print(type(e).__name__, e)
"""
    return lab.run(host, sys.executable, "-c", script, ip, str(port)).stdout.strip()


@pytest.mark.parametrize("count", [3, 4])
def test_lab_up_with_more_hosts_returns_only_when_every_host_is_ready(lab, count):
    """Read at once after a fresh `up`, as test_lab.py does for two hosts."""
    lab.down()
    lab.use("healthy", hosts=count)
    hosts = names_of(count)
    status = lab_api.status()
    assert status["up"] and list(status["hosts"]) == hosts
    everyone = [f"{h}{suffix}.lab.test" for h in hosts for suffix in ("", "-fast", "-mgmt")]
    for i, host in enumerate(hosts, start=1):
        letter = host[-1]
        assert operstates(lab, host) == {f"{letter}-lan": "UP", f"{letter}-fast": "UP", f"{letter}-mgmt": "UP"}
        resolved = resolved_in(lab, host, everyone)
        assert resolved == {
            f"{h}{suffix}.lab.test": f"{net}.{j}"
            for j, h in enumerate(hosts, start=1)
            for suffix, net in (("", "192.0.2"), ("-fast", "198.51.100"), ("-mgmt", "203.0.113"))
        }, host
        assert lab.run(host, "virsh", "-c", "qemu:///system", "hostname").stdout.strip() == f"{host}.lab.test"
        over_ssh = subprocess.run(
            ["ssh", "-F", str(ssh.SSH_CONFIG), host, "hostname"], capture_output=True, text=True, timeout=30
        )
        assert over_ssh.stdout.strip() == f"{host}.lab.test", over_ssh.stderr
        assert status["hosts"][host]["addresses"]["fast"]["address"] == f"198.51.100.{i}/24"
    switch = json.loads(
        subprocess.run(
            ["ip", "-n", layout.SWITCH_NS, "-j", "link", "show"], capture_output=True, text=True, check=True
        ).stdout
    )
    ports = {link["ifname"]: (link.get("master"), link["operstate"]) for link in switch if link.get("master")}
    assert ports == {f"{role}-{h[-1]}": (f"{role}-br", "UP") for h in hosts for role in ("lan", "fast")}
    inventory = lab.inventory()
    assert list(inventory["hosts"]) == hosts and inventory["groups"] == {"lab": hosts}


def test_every_host_reaches_every_other_across_the_switches_with_the_links_shaped(lab_scenario):
    lab = lab_scenario("healthy", hosts=4)
    for source, target in (
        ("hosta", "192.0.2.4"),
        ("hosta", "198.51.100.4"),
        ("hostd", "192.0.2.2"),
        ("hostd", "198.51.100.3"),
    ):
        assert tcp_answer(lab, source, target, 22) in ("connected", "refused"), (source, target)
    for netns, dev, rate in (
        ("mdlab-hostc", "c-lan", 100),
        ("mdlab-hostc", "c-fast", 1000),
        (layout.SWITCH_NS, "fast-c", 1000),
    ):
        (qdisc,) = json.loads(
            subprocess.run(
                ["tc", "-n", netns, "-j", "qdisc", "show", "dev", dev], capture_output=True, text=True
            ).stdout
        )
        assert (qdisc["kind"], qdisc["options"]["rate"]) == ("tbf", rate * 1_000_000 // 8), (netns, dev)


def test_test_migration_into_a_healthy_hostc_takes_the_fast_network(lab_scenario, tmp_path):
    lab = lab_scenario("healthy", hosts=4)
    code, report = check_run(tmp_path, "hosta", "hostc", *TRIAL)
    (leg,) = report["pairs"][0]["migration_trial"]["legs"]
    assert code == 0, report["pairs"][0]["findings"]
    assert leg["ok"] and (leg["source_link"], leg["destination_link"]) == ("a-fast", "c-fast")
    assert_no_canary(lab, names_of(4))


def test_a_trial_refused_into_one_destination_is_its_pairs_record_and_the_next_trial_runs(lab_scenario, tmp_path):
    lab = lab_scenario("healthy", hosts=4)
    socket = "/run/migdoctor-lab/hostc/no-such-libvirt-sock"  # hostc's libvirtd cannot be reached there
    inventory = lab.inventory_copy(tmp_path, "hostc", libvirt_uri=f"qemu+unix:///system?socket={socket}")
    before = sorted(Path("/var/tmp").glob("migdoctor*"))
    done, report = check_done(tmp_path, "hosta", "hostc", "hostb", *TRIAL, "--inventory", str(inventory))

    validate_report(report)
    pairs = pairs_of(report)
    refused = pairs[("hosta", "hostc")]["migration_trial"]["refused"]
    assert refused.startswith(f"hostc: cannot connect to qemu+unix:///system?socket={socket}: ")
    assert "No such file or directory" in refused
    (skipped,) = pairs[("hosta", "hostc")]["findings"]
    assert skipped["status"] == "skip" and "`migdoctor migrate-test hosta hostc` tries it alone" in skipped["summary"]
    (leg,) = pairs[("hosta", "hostb")]["migration_trial"]["legs"]  # tried after the refusal, as asked
    assert leg["ok"] and (leg["source_link"], leg["destination_link"]) == ("a-fast", "b-fast")
    assert statuses(pairs[("hosta", "hostb")], "pass") == {"migration.test-migration"}
    assert report["matrix"]["hosta"]["hostc"]["verdict"] == "not checked"
    assert report["matrix"]["hosta"]["hostb"]["verdict"] == "pass"
    assert done.returncode == report["exit_status"] == 2  # the worst pair's: could not run, as for one pair
    assert done.stderr.splitlines()[0] == f"migdoctor: hosta -> hostc: test migration refused: {refused}"
    assert_no_canary(lab, names_of(4))
    assert sorted(Path("/var/tmp").glob("migdoctor*")) == before  # no payload left (the hosts share /var/tmp)


def test_a_far_side_killed_in_one_destinations_trial_is_its_pairs_record_and_the_next_trial_runs(
    lab_scenario, tmp_path
):
    lab = lab_scenario("healthy", hosts=4)
    before = sorted(Path("/var/tmp").glob("migdoctor*"))
    output = tmp_path / "report.json"
    trial = [*TRIAL[:-3], "--canary-memory", "256", "--one-way"]  # long enough to be caught mid-stream
    argv = [MIGDOCTOR, "check", "hosta", "hostc", "hostb", *trial, "--format", "json", "--output", str(output)]
    run = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lab.wait_for_canary_migration()  # the first trial: hosta -> hostc
    lab.kill_far_sides("hostc")
    _, stderr = run.communicate(timeout=300)
    report = json.loads(output.read_text())

    validate_report(report)
    pairs = pairs_of(report)
    lost = pairs[("hosta", "hostc")]["migration_trial"]["refused"]
    assert lost.startswith("hostc: the far side ended unexpectedly") and "Traceback" not in stderr
    (leg,) = pairs[("hosta", "hostb")]["migration_trial"]["legs"]  # the run went on to the next trial
    assert leg["ok"] and (leg["source_link"], leg["destination_link"]) == ("a-fast", "b-fast")
    assert report["matrix"]["hosta"]["hostc"]["verdict"] == "not checked"
    assert run.returncode == report["exit_status"] == 2
    assert stderr.splitlines()[0] == f"migdoctor: hosta -> hostc: test migration refused: {lost}"
    assert_no_canary(lab, names_of(4))
    assert sorted(Path("/var/tmp").glob("migdoctor*")) == before


# --- evacuate-one-bad: hosta is emptied to hostb, hostc and hostd; hostc advertises its LAN name --


INTO_HOSTC = [("hosta", "hostc"), ("hostb", "hostc"), ("hostd", "hostc")]


def test_every_pair_of_the_group_fails_into_hostc_on_its_lan_name_and_no_other_pair_does(lab_scenario, tmp_path):
    lab_scenario("evacuate-one-bad")
    code, report = check_run(tmp_path, "--all", "--group", "lab")

    validate_report(report)
    pairs = pairs_of(report)
    assert code == 1 and len(pairs) == 12 and all(h["reached"] for h in report["hosts"].values())
    for (source, destination), pair in pairs.items():
        verdict = report["matrix"][source][destination]
        if destination == "hostc":
            assert {"dns.migration-host-address", "probe.migration-port"} <= statuses(pair, "fail"), pair
            finding = next(f for f in pair["findings"] if f["id"] == "dns.migration-host-address")
            assert (
                f"hostc.lab.test (/etc/libvirt/qemu.conf migration_host) resolves on {source} to 192.0.2.3"
                in (finding["summary"])
            )
            assert finding["remediation"] == 'hostc:/etc/libvirt/qemu.conf: migration_host = "hostc-fast.lab.test"'
            assert verdict["verdict"] == "fail" and verdict["destination_link"] == "c-lan"
        else:
            assert statuses(pair, "fail", "error") == set(), (source, destination)
            assert verdict == {
                "verdict": "pass", "source_link": f"{source[-1]}-fast", "destination_link": f"{destination[-1]}-fast",
                "on_migration_network": True,
            }  # fmt: skip


def test_evacuating_hosta_migrates_to_each_destination_in_turn_and_only_hostc_takes_the_lan(lab_scenario, tmp_path):
    lab = lab_scenario("evacuate-one-bad")
    code, report = check_run(tmp_path, "hosta", "hostb", "hostc", "hostd", *TRIAL)

    validate_report(report)
    pairs = pairs_of(report)
    assert code == 1 and list(pairs) == [("hosta", "hostb"), ("hosta", "hostc"), ("hosta", "hostd")]
    legs = {destination: pair["migration_trial"]["legs"][0] for (_, destination), pair in pairs.items()}
    assert all(leg["ok"] for leg in legs.values()), legs
    assert (legs["hostc"]["source_link"], legs["hostc"]["destination_link"]) == ("a-lan", "c-lan")
    assert legs["hostc"]["rate_mbps"] <= LAN_MBPS * 1.15, legs["hostc"]  # the LAN's shaping, nothing faster
    for destination in ("hostb", "hostd"):
        assert (legs[destination]["source_link"], legs[destination]["destination_link"]) == (
            "a-fast",
            f"{destination[-1]}-fast",
        )
        assert statuses(pairs[("hosta", destination)], "fail", "error") == set()
    assert statuses(pairs[("hosta", "hostc")], "fail") == {"migration.test-migration"}
    assert_no_canary(lab, names_of(4))


def test_down_after_four_hosts_leaves_nothing(lab_scenario):
    lab = lab_scenario("evacuate-one-bad")
    lab.down()
    namespaces = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    assert "mdlab" not in namespaces
    assert not any(Path(f"/etc/netns/{ns}").exists() for ns in layout.namespaces())
    assert not any(Path(f"/sys/class/net/{h.mgmt_peer}").exists() for h in layout.ALL_HOSTS.values())
    assert not lab_api.exists()


def test_a_host_the_lab_does_not_run_is_named_in_one_line(lab_scenario):
    lab = lab_scenario("seed")
    done = lab.cli("exec", "hostc", "--", "true")
    assert done.returncode == 1
    assert done.stderr == "migdoctor lab: hostc is not in the lab, which runs hosta, hostb: bring it up with --hosts\n"
    refused = lab.cli("up", "--scenario", "evacuate-one-bad", "--hosts", "2")
    assert refused.returncode == 1
    assert refused.stderr == "migdoctor lab: scenario evacuate-one-bad configures hostc: it needs --hosts 3 or more\n"
