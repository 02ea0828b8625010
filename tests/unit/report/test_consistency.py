"""`report validate` holds a report to itself, not only to its schema: an exit status its findings
do not give, totals that are not its pairs', a pair listed twice or naming a host the report lacks,
a matrix cell that is not its pair's. Schema 2 reports by schema 2's rules (the committed
examples), schema 3 by its own."""

import copy
import json
import subprocess
import sys
from pathlib import Path

import pytest

from migdoctor.report.document import ReportError, validate_report

SEED = Path(__file__).resolve().parents[3] / "reports" / "example-seed.json"


def seed():
    return json.loads(SEED.read_text(encoding="utf-8"))


def contradiction(report):
    with pytest.raises(ReportError) as raised:
        validate_report(report)
    return str(raised.value)


def test_a_pair_whose_exit_status_its_findings_do_not_give_contradicts_itself():
    report = seed()
    report["pairs"][0]["exit_status"] = report["exit_status"] = 0  # the seed fails two checks

    assert contradiction(report).startswith(
        "report contradicts itself: pair hosta -> hostb: exit status 0, but its findings give 1"
    )


def test_a_finding_changed_without_its_totals_contradicts_them():
    report = seed()
    report["pairs"][0]["findings"][0]["status"] = "skip"

    assert "pair hosta -> hostb: totals {" in contradiction(report)


def test_run_totals_that_are_not_the_sum_of_the_pairs_contradict_them():
    report = seed()
    report["totals"]["pass"] += 1

    assert contradiction(report).startswith(f"report contradicts itself: totals {report['totals']} are not the sum")


def test_a_pair_listed_twice_contradicts_itself():
    report = seed()
    report["pairs"].append(copy.deepcopy(report["pairs"][0]))

    assert contradiction(report).startswith("report contradicts itself: pair hosta -> hostb: listed twice (and 1 more)")


def test_a_pair_naming_a_host_the_report_lacks_contradicts_it():
    report = seed()
    report["pairs"][0]["destination"] = "kvm9"

    assert contradiction(report).startswith(
        "report contradicts itself: pair hosta -> kvm9: kvm9 is not one of its hosts"
    )


def test_a_matrix_cell_that_is_not_its_pairs_verdict_contradicts_it():
    report = seed()
    report["matrix"]["hosta"]["hostb"]["verdict"] = "pass"

    assert contradiction(report) == (
        "report contradicts itself: pair hosta -> hostb: its matrix cell is not its verdict and predicted link (fail)"
    )


def test_a_schema_3_pair_claiming_a_pass_for_an_unknown_path_contradicts_it(judge_report):
    report = judge_report()
    pair = report["pairs"][0]
    validate_report(report)
    pair["path"].update(address=None, source_link=None, on_migration_network=None)
    report["matrix"]["hosta"]["hostb"].update(source_link=None, on_migration_network=None)

    assert contradiction(report).startswith(
        "report contradicts itself: pair hosta -> hostb: its path leaves unknown the address of hostb-fast.lab.test "
        "on hosta, but unverified is empty"
    )


def test_schema_2_rules_judge_schema_2_reports():
    """A schema 2 pair that could not run exits 2 even when a check failed, and its run the worst
    (highest) of its pairs'; both still validate."""
    report = seed()
    report["hosts"]["hostb"]["reached"] = False
    report["pairs"][0]["exit_status"] = report["exit_status"] = 2

    validate_report(report)


def test_report_validate_exits_1_naming_the_contradiction(tmp_path):
    report = seed()
    report["totals"]["fail"] = 0
    path = tmp_path / "tampered.json"
    path.write_text(json.dumps(report), encoding="utf-8")

    done = subprocess.run(
        [sys.executable, "-m", "migdoctor", "report", "validate", str(path)], capture_output=True, text=True
    )

    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.startswith(f"migdoctor: {path}: report contradicts itself: totals ")
    assert len(done.stderr.splitlines()) == 1


def test_report_render_refuses_a_pair_naming_a_missing_host_in_one_line(tmp_path):
    report = seed()
    report["pairs"][0]["source"] = "kvm9"
    path = tmp_path / "tampered.json"
    path.write_text(json.dumps(report), encoding="utf-8")

    done = subprocess.run(
        [sys.executable, "-m", "migdoctor", "report", "render", str(path)], capture_output=True, text=True
    )

    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.startswith(f"migdoctor: {path}: report contradicts itself: pair kvm9 -> hostb: kvm9 is not")
