"""Scenario `guests-no-kvm-destination`: web runs on hosta with a host-passthrough CPU and hostb
cannot run KVM guests. migdoctor says web cannot go to hostb, and `virsh migrate --live --p2p`
agrees. One bring-up for the module."""

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from test_evacuate_lab import MIGDOCTOR, running, virsh_migrate

from migdoctor.report.document import validate_report

pytestmark = pytest.mark.lab


@pytest.fixture(scope="module")
def no_kvm_lab(lab: Any) -> Iterator[Any]:
    lab.use("guests-no-kvm-destination")
    yield lab
    if "web" in running(lab, "hostb"):  # libvirt moved it after all: bring it home
        virsh_migrate(lab, "web", "hostb", "hosta")


def test_web_with_host_passthrough_cannot_go_to_a_destination_without_kvm_and_virsh_agrees(
    no_kvm_lab: Any, tmp_path: Path
) -> None:
    output = tmp_path / "report.json"
    done = subprocess.run(
        [MIGDOCTOR, "check", "hosta", "hostb", "--guest", "web", "--output", str(output)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    report = json.loads(output.read_text())
    validate_report(report)
    (web,) = report["guests"]
    blocking = [f for f in web["findings"] if f["status"] == "fail"]
    assert web["verdict"] == "fail" and blocking, web
    assert report["plan"] == [{"guest": "web", "destination": None, "reason": report["plan"][0]["reason"]}]
    assert done.returncode == 1

    refused = virsh_migrate(no_kvm_lab, "web", "hosta", "hostb")
    assert refused.returncode != 0, refused.stdout
    assert "web" in running(no_kvm_lab, "hosta")
