"""Ansible against the lab's bare hosts (no migdoctor, no pyroute2 or dnspython there): the
migdoctor.fleet playbook run by the real ansible-playbook over the lab's SSH writes each host's
facts record as `migdoctor facts HOST --json` prints it with its look-ups aimed at its peers,
saved facts from it judge every pair as a direct `check --all` does, and `migdoctor check`
reading the lab's Ansible inventory finds what it finds with the lab's TOML one."""

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from migdoctor.lab import inventory as lab_inventory
from migdoctor.report.compact import expanded_pairs
from migdoctor.report.document import stable_digest
from migdoctor.schemas import schema_errors

pytestmark = pytest.mark.lab

BIN = Path(sys.prefix) / "bin"
REPO = Path(__file__).resolve().parents[2]
HOSTS = ["hosta", "hostb"]


@pytest.fixture
def seed(lab_scenario):
    return lab_scenario("seed")


def playbook(facts_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The collection's playbook on the lab's Ansible inventory; no ssh master left running after it."""
    env = {
        **os.environ,
        "ANSIBLE_COLLECTIONS_PATH": str(REPO),
        "ANSIBLE_SSH_ARGS": "-o ControlMaster=no",
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_RETRY_FILES_ENABLED": "0",
    }
    argv = [str(BIN / "ansible-playbook"), "-i", str(lab_inventory.ANSIBLE_FILE), "migdoctor.fleet.gather_facts"]
    return subprocess.run(
        [*argv, "-e", f"migdoctor_facts_dir={facts_dir}", *args], capture_output=True, text=True, timeout=180, env=env
    )


def migdoctor(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN / "migdoctor"), *args], capture_output=True, text=True, timeout=120)


def peer_lookups(record: dict[str, Any]) -> list[str]:
    """The look-ups a facts record holds, as `migdoctor facts` options."""
    resolution = record["resolution"]
    return [
        *(arg for item in record["route_lookups"] or [] for arg in ("--route-to", item["destination"])),
        *(arg for item in resolution["lookups"] or [] for arg in ("--resolve", item["name"])),
        *(arg for item in resolution["reverse_lookups"] or [] for arg in ("--reverse", item["address"])),
    ]


def test_the_playbook_saves_each_hosts_facts_as_migdoctor_facts_prints_them_with_the_peer_lookups(seed, tmp_path):
    done = playbook(tmp_path)

    assert done.returncode == 0, done.stdout + done.stderr
    assert sorted(path.name for path in tmp_path.iterdir()) == [f"{host}.json" for host in HOSTS]
    for host, peer in zip(HOSTS, reversed(HOSTS), strict=True):
        saved = json.loads((tmp_path / f"{host}.json").read_text())
        assert schema_errors("facts", saved) == []
        # the seed's peer advertises its hostname; its address on the migration (fast) network
        assert {f"{peer}.lab.test", peer} <= {item["name"] for item in saved["resolution"]["lookups"]}
        assert f"198.51.100.{HOSTS.index(peer) + 1}" in {item["destination"] for item in saved["route_lookups"]}
        direct = migdoctor("facts", host, "--json", *peer_lookups(saved))
        assert direct.returncode == 0, direct.stderr
        printed = json.loads(direct.stdout)
        assert saved["identity"]["hostname"] == f"{host}.lab.test"
        assert saved["identity"]["hypervisor"]["libvirt"] is not None  # asked through the host's libvirt URI
        assert saved["firewall"]["sources"][0]["kind"] == "nftables"  # the lab's root login: nothing hidden
        assert stable_digest(saved) == stable_digest(printed), host


def test_become_is_ansibles(seed, tmp_path):
    """As the lab's admin the ruleset is hidden (a named gap); with Ansible's --become (sudo) it is read."""
    plain = playbook(tmp_path / "plain", "-e", "ansible_user=mdlab-admin", "--limit", "hostb")
    become = playbook(tmp_path / "become", "-e", "ansible_user=mdlab-admin", "--limit", "hostb", "--become")

    assert plain.returncode == 0 and become.returncode == 0, plain.stdout + become.stdout
    hidden = json.loads((tmp_path / "plain" / "hostb.json").read_text())
    read = json.loads((tmp_path / "become" / "hostb.json").read_text())
    assert hidden["firewall"] is None
    assert any(gap["fact"] == "firewall" and "needs root" in gap["reason"] for gap in hidden["missing"])
    assert read["firewall"]["sources"][0]["kind"] == "nftables"
    assert not any(gap["fact"] == "firewall" for gap in read["missing"])


def findings(report: dict[str, Any]) -> list[tuple[str, str]]:
    """(check id, status) of every finding, whichever report schema holds them."""
    items = report["findings"] if "findings" in report else [f for pair in report["pairs"] for f in pair["findings"]]
    return [(item["id"], item["status"]) for item in items]


def test_check_with_the_labs_ansible_inventory_finds_what_the_toml_one_finds(seed, tmp_path):
    reports = {}
    for name, inventory in (("toml", lab_inventory.FILE), ("ansible", lab_inventory.ANSIBLE_FILE)):
        output = tmp_path / f"{name}.json"
        done = migdoctor("check", "hosta", "hostb", "--inventory", str(inventory), "--output", str(output))
        assert done.returncode == 1, done.stderr  # the seed's faults
        reports[name] = json.loads(output.read_text())

    assert findings(reports["ansible"]) == findings(reports["toml"])
    assert ("dns.migration-host-address", "fail") in findings(reports["ansible"])


# What only a live run measures; saved facts cannot hold it, so the saved run SKIPs these and the
# comparison leaves them out (every other check is compared finding by finding):
ACTIVE_STEPS = {
    "probe.migration-port": "the port probe: a TCP connection and its bytes, counted on the links",
    "link.path-mtu": "the path MTU probe: don't-fragment packets sent from the source",
    "trust.peer-connection": "the peer connection: the source's libvirtd account opening the destination's URI",
    "migration.test-migration": "the test migration (asked of neither run: SKIP in both)",
}


def judged(report: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    """Per pair: its predicted path and every finding but the active steps', without timings."""
    return {
        (pair["source"], pair["destination"]): {
            "path": pair["path"],
            "findings": [
                {key: value for key, value in finding.items() if key != "duration_s"}
                for finding in pair["findings"]
                if finding["id"] not in ACTIVE_STEPS
            ],
        }
        for pair in expanded_pairs(report)
    }


def test_facts_saved_by_the_playbook_judge_every_pair_as_a_direct_check_all(lab_scenario, tmp_path):
    """evacuate-one-bad on three hosts: hostc advertises its LAN name, so the pairs into it fail.
    Judged with the same inventory (its migration network and libvirt URIs) as the direct run."""
    lab_scenario("evacuate-one-bad", hosts=3)
    facts_dir, saved_report, direct_report = tmp_path / "facts", tmp_path / "saved.json", tmp_path / "direct.json"

    done = playbook(facts_dir)
    assert done.returncode == 0, done.stdout + done.stderr
    saved = migdoctor(
        "check", "--facts-dir", str(facts_dir), "--all", "--group", lab_inventory.GROUP,
        "-i", str(lab_inventory.ANSIBLE_FILE), "--format", "json", "--output", str(saved_report),
    )  # fmt: skip
    direct = migdoctor(
        "check", "--all", "--group", lab_inventory.GROUP, "--format", "json", "--output", str(direct_report)
    )

    assert (saved.returncode, direct.returncode) == (1, 1), saved.stderr + direct.stderr
    from_saved, from_hosts = json.loads(saved_report.read_text()), json.loads(direct_report.read_text())
    assert sorted(from_saved["hosts"]) == ["hosta", "hostb", "hostc"]
    assert from_saved["not_checked"] == [] and all(pair["not_checked"] == [] for pair in from_saved["pairs"])
    assert judged(from_saved) == judged(from_hosts)
    assert from_saved["matrix"] == from_hosts["matrix"]
    assert "shared" in from_saved and "shared" in from_hosts  # both in the compact form of a run of several pairs
    for pair in expanded_pairs(from_saved):
        statuses = {finding["id"]: finding["status"] for finding in pair["findings"]}
        assert {statuses[check] for check in ACTIVE_STEPS} == {"skip"}
        # what only the peer look-ups answer was judged, not skipped
        assert statuses["route.egress-interface"] == statuses["route.return-path"] == "pass", pair["findings"]
        expected = "fail" if pair["destination"] == "hostc" else "pass"
        assert statuses["dns.migration-host-address"] == expected, (pair["source"], pair["destination"])
