"""Ansible against the lab's bare hosts (no migdoctor, no pyroute2 or dnspython there): the
migdoctor.fleet playbook run by the real ansible-playbook over the lab's SSH writes each host's
facts record as `migdoctor facts HOST --json` prints it, and `migdoctor check` reading the lab's
Ansible inventory finds what it finds with the lab's TOML one."""

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from migdoctor.lab import inventory as lab_inventory
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


def test_the_playbook_saves_each_hosts_facts_as_migdoctor_facts_prints_them(seed, tmp_path):
    done = playbook(tmp_path)

    assert done.returncode == 0, done.stdout + done.stderr
    assert sorted(path.name for path in tmp_path.iterdir()) == [f"{host}.json" for host in HOSTS]
    for host in HOSTS:
        saved = json.loads((tmp_path / f"{host}.json").read_text())
        assert schema_errors("facts", saved) == []
        direct = migdoctor("facts", host, "--json")
        assert direct.returncode == 0, direct.stderr
        printed = json.loads(direct.stdout)
        assert saved["identity"]["hostname"] == f"{host}.lab.test"
        assert saved["identity"]["hypervisor"]["libvirt"] is not None  # asked through the host's libvirt URI
        assert saved["firewall"]["backend"] == "nftables"  # the lab's root login: nothing hidden
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
    assert read["firewall"]["backend"] == "nftables"
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
