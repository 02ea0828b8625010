"""`migdoctor evacuate hosta` on the lab's `guests` scenario, then libvirt's own answer: each guest
is migrated with `virsh migrate --live --p2p` from inside hosta, and what migdoctor said it would
do is what libvirt does (web moves and is brought back; db, scratch and isolated are refused and
keep running on hosta). One bring-up for the module; the evacuation is run once."""

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from migdoctor.report.document import validate_report

pytestmark = pytest.mark.lab

MIGDOCTOR = str(Path(sys.prefix) / "bin" / "migdoctor")
BLOCKED = ("db", "scratch", "isolated")


def virsh_migrate(lab: Any, guest: str, src: str, dst: str) -> subprocess.CompletedProcess[str]:
    """`virsh migrate --live --p2p GUEST` run on SRC to DST's libvirt URI, as an admin would."""
    uri = lab.inventory()["hosts"][dst]["libvirt_uri"]
    return lab.run(src, "virsh", "migrate", "--live", "--p2p", guest, uri, check=False, timeout=120)


def running(lab: Any, host: str) -> set[str]:
    return set(lab.run(host, "virsh", "-c", "qemu:///system", "list", "--name").stdout.split())


@pytest.fixture(scope="module")
def guests_lab(lab: Any) -> Iterator[Any]:
    lab.use("guests")
    yield lab
    if "web" in running(lab, "hostb"):  # a failed test left web on hostb: bring it home
        virsh_migrate(lab, "web", "hostb", "hosta")


@pytest.fixture(scope="module")
def evacuated(
    guests_lab: Any, tmp_path_factory: pytest.TempPathFactory
) -> tuple[subprocess.CompletedProcess[str], dict]:
    """`migdoctor evacuate hosta` (no DST: every other host of the lab's inventory), its text and
    its JSON report."""
    output = tmp_path_factory.mktemp("evacuate") / "report.json"
    done = subprocess.run(
        [MIGDOCTOR, "evacuate", "hosta", "--output", str(output)], capture_output=True, text=True, timeout=300
    )
    assert output.exists(), done.stderr
    return done, json.loads(output.read_text())


def entry(report: dict[str, Any], name: str) -> dict[str, Any]:
    (found,) = [guest for guest in report["guests"] if guest["name"] == name and guest["destination"] == "hostb"]
    return found


def failed(guest: dict[str, Any], check: str) -> dict[str, Any]:
    (finding,) = [f for f in guest["findings"] if f["id"] == check]
    assert finding["status"] == "fail", finding
    return finding


def test_evacuate_names_where_web_goes_and_why_the_others_cannot_leave(evacuated) -> None:
    done, report = evacuated

    validate_report(report)
    assert done.returncode == report["exit_status"] == 1, done.stderr
    assert [(pair["source"], pair["destination"]) for pair in report["pairs"]] == [("hosta", "hostb")]
    assert report["matrix"]["hosta"]["hostb"]["verdict"] == "pass"
    plan = {placement["guest"]: placement for placement in report["plan"]}
    assert set(plan) == {"web", *BLOCKED}
    assert plan["web"] == {"guest": "web", "destination": "hostb", "reason": None}
    assert all(plan[name]["destination"] is None and plan[name]["reason"] for name in BLOCKED)
    assert entry(report, "web")["verdict"] == "pass"
    assert "  web -> hostb" in done.stdout.splitlines()


def test_db_is_proven_the_same_storage_on_a_filesystem_libvirt_does_not_count_as_shared(evacuated) -> None:
    _, report = evacuated

    finding = failed(entry(report, "db"), "guest.storage")
    assert "same" in finding["summary"], finding["summary"]
    assert "--unsafe" in finding["remediation"] and "shared" in finding["remediation"], finding["remediation"]


def test_scratch_needs_its_disk_copied_and_names_the_space(evacuated) -> None:
    _, report = evacuated

    finding = failed(entry(report, "scratch"), "guest.storage")
    assert "--copy-storage-all" in finding["remediation"], finding["remediation"]
    assert "MiB" in finding["summary"] + finding["remediation"] or "GiB" in finding["summary"] + finding["remediation"]


def test_isolated_needs_a_bridge_hostb_lacks(evacuated) -> None:
    _, report = evacuated

    finding = failed(entry(report, "isolated"), "guest.networks")
    assert "br-app" in finding["summary"], finding["summary"]


@pytest.mark.parametrize("guest", BLOCKED)
def test_libvirt_refuses_each_guest_migdoctor_calls_blocked(guests_lab, evacuated, guest) -> None:
    refused = virsh_migrate(guests_lab, guest, "hosta", "hostb")

    assert refused.returncode != 0, refused.stdout
    assert guest in running(guests_lab, "hosta") and guest not in running(guests_lab, "hostb")
    if guest in ("db", "scratch"):  # virsh words both alike; migdoctor told them apart
        assert "Unsafe migration" in refused.stderr, refused.stderr


def test_libvirt_moves_web_as_planned_and_it_comes_back(guests_lab, evacuated) -> None:
    moved = virsh_migrate(guests_lab, "web", "hosta", "hostb")
    assert moved.returncode == 0, moved.stderr
    assert "web" in running(guests_lab, "hostb")

    back = virsh_migrate(guests_lab, "web", "hostb", "hosta")
    assert back.returncode == 0, back.stderr
    assert "web" in running(guests_lab, "hosta") and "web" not in running(guests_lab, "hostb")
