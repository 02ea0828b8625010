"""migdoctor as users install it, against the lab: the `migdoctor` of .venv-wheel (the session's
wheel, not editable), whose far side is the zip built from that install's packages. The pair
check and the test migration are the lab tests of the tree's install, run with that executable;
the fleet run is `check --all` on three hosts. Every command runs from a directory outside the
tree, so nothing of the tree can be imported in its place."""

import json
import subprocess
from itertools import permutations
from pathlib import Path
from typing import Any

import pytest
import test_check_lab
import test_migration_lab

from migdoctor.report.compact import expanded_pairs
from migdoctor.report.document import validate_report

pytestmark = pytest.mark.lab


@pytest.fixture
def installed(wheel_venv: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """The wheel's `migdoctor`, made the one the lab tests of the tree's install run."""
    migdoctor = str(wheel_venv / "bin" / "migdoctor")
    for module in (test_check_lab, test_migration_lab):
        monkeypatch.setattr(module, "MIGDOCTOR", migdoctor)
    monkeypatch.chdir(tmp_path)
    return migdoctor


def test_the_pair_check_from_the_wheel(installed: str, lab_scenario: Any, tmp_path: Path) -> None:
    test_check_lab.test_seed_fails_migration_host_address_and_shows_the_lan_path(lab_scenario("seed"), tmp_path)


def test_the_test_migration_from_the_wheel(installed: str, lab_scenario: Any, tmp_path: Path) -> None:
    test_migration_lab.test_seed_trial_crosses_the_lan_and_fails(lab_scenario, tmp_path)


def test_the_fleet_run_from_the_wheel_on_three_hosts(installed: str, lab_scenario: Any, tmp_path: Path) -> None:
    """evacuate-one-bad: hostc advertises its LAN name, so exactly the pairs into hostc fail."""
    lab_scenario("evacuate-one-bad", hosts=3)
    output = tmp_path / "fleet.json"
    done = subprocess.run(
        [installed, "check", "--all", "--format", "json", "--output", str(output)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert output.exists(), done.stderr
    report: dict[str, Any] = json.loads(output.read_text())

    validate_report(report)
    assert done.returncode == report["exit_status"] == 1, done.stderr
    assert report["not_checked"] == [] and all(host["reached"] for host in report["hosts"].values())
    assert sorted((p["source"], p["destination"]) for p in report["pairs"]) == sorted(
        permutations(["hosta", "hostb", "hostc"], 2)
    )
    for pair in expanded_pairs(report):  # a run of several pairs writes the compact form
        source, destination = pair["source"], pair["destination"]
        failed = {f["id"] for f in pair["findings"] if f["status"] in ("fail", "error")}
        into_hostc = destination == "hostc"
        assert ("dns.migration-host-address" in failed) is into_hostc, (source, destination, failed)
        cell = report["matrix"][source][destination]
        assert cell["verdict"] == ("fail" if into_hostc else "pass"), (source, destination, pair["findings"])
        role = "lan" if into_hostc else "fast"
        assert (cell["source_link"], cell["destination_link"]) == (f"{source[-1]}-{role}", f"{destination[-1]}-{role}")
    validated = subprocess.run(
        [installed, "report", "validate", str(output)], capture_output=True, text=True, timeout=30
    )
    assert validated.returncode == 0 and "valid migdoctor report" in validated.stdout, validated.stdout
