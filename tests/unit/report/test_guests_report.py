"""A report with guests (check --guests, evacuate): the `guests` and `plan` keys validate against
schema 3 and against the report itself, count in the exit status, and every writer shows them.
The pair is the lab's healthy one (tests/data/facts); the guests' findings are as the guest checks
word the lab's `guests` scenario."""

import copy
import json
import xml.etree.ElementTree as ET
from typing import Any

import pytest
from rendering import rendered

from migdoctor.report.document import (
    ReportError,
    guest_record,
    guest_statuses,
    run_exit_status,
    validate_report,
)
from migdoctor.report.writers import Format

DB_FIX = "put the disk on a filesystem libvirt counts as shared, or migrate with virsh migrate --unsafe"


def finding(check: str, status: str, summary: str, fix: str | None = None) -> dict[str, Any]:
    return {
        "id": check,
        "title": check,
        "area": "guest",
        "severity": "high",
        "origin": "built-in",
        "status": status,
        "summary": summary,
        "evidence": [{"host": "hostb", "item": "disk vda", "actual": "/srv/shared/db.qcow2", "expected": None}],
        "remediation": fix,
        "ignored": False,
        "duration_s": 0.001,
    }


def with_guests(report: dict[str, Any], entries: list[dict[str, Any]], plan: list[dict[str, Any]]) -> dict[str, Any]:
    """REPORT with guests and plan, its exit status counting them as the run does."""
    report = {**report, "guests": entries, "plan": plan}
    statuses = {pair["exit_status"] for pair in report["pairs"]} | guest_statuses(entries)
    report["exit_status"] = run_exit_status(statuses)
    return report


@pytest.fixture
def evacuated(judge_report) -> dict[str, Any]:
    report = judge_report("healthy")
    entries = [
        guest_record("web", "hosta", "hostb", [finding("guest.cpu", "pass", "identical")], [], "pass"),
        guest_record(
            "db",
            "hosta",
            "hostb",
            [finding("guest.storage", "fail", "vda is the same storage on both hosts, but on xfs", DB_FIX)],
            [],
            "pass",
        ),
        guest_record("gone", "hosta", "hostb", [], ["hosta: gone: not running on the source"], "pass"),
    ]
    plan = [
        {"guest": "web", "destination": "hostb", "reason": None},
        {"guest": "db", "destination": None, "reason": "hostb: guest.storage fails"},
        {"guest": "gone", "destination": None, "reason": "not checked anywhere"},
    ]
    return with_guests(report, entries, plan)


def test_a_report_with_guests_validates_and_counts_a_guest_that_cannot_move_as_a_failed_pair(evacuated) -> None:
    validate_report(evacuated)

    assert evacuated["matrix"]["hosta"]["hostb"]["verdict"] == "pass"
    assert [guest["verdict"] for guest in evacuated["guests"]] == ["pass", "fail", "not checked"]
    assert evacuated["exit_status"] == 1


def test_a_guest_judged_without_part_of_what_it_needs_is_incomplete_not_a_pass() -> None:
    entry = guest_record(
        "web", "hosta", "hostb", [finding("guest.cpu", "skip", "no CPU comparison")], ["no look-ups"], "pass"
    )

    assert entry["verdict"] == "incomplete"


def test_a_guest_is_never_better_than_its_pair() -> None:
    (entry,) = [guest_record("web", "hosta", "hostb", [finding("guest.cpu", "pass", "identical")], [], "incomplete")]

    assert entry["verdict"] == "incomplete"
    assert guest_statuses([entry]) == {3}


def broken(report: dict[str, Any], change: Any) -> dict[str, Any]:
    report = copy.deepcopy(report)
    change(report)
    return report


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (lambda r: r["guests"][0].update(verdict="fail"), "guest web hosta -> hostb: verdict fail, but its findings"),
        (lambda r: r["guests"][1].update(pair_verdict="fail"), "guest db hosta -> hostb: its pair_verdict fail"),
        (lambda r: r["guests"].append(r["guests"][0]), "guest web hosta -> hostb: listed twice"),
        (lambda r: r["guests"][0].update(destination="hostc"), "guest web hosta -> hostc: not one of its pairs"),
        (lambda r: r["plan"].pop(), "plan: places web, db, but the guests are web, db, gone"),
        (lambda r: r["plan"][1].update(destination="hostb"), "plan: db goes to hostb, where its verdict is not pass"),
        (lambda r: r["plan"][2].update(reason=None), "plan: gone goes nowhere without a reason"),
        (lambda r: r.pop("plan"), "guests without plan"),
        (lambda r: (r.pop("guests"), r.pop("plan"), r.update(guests_unknown=["x"])), "guests_unknown without guests"),
        (lambda r: r.update(exit_status=0), "exit status 0, but its pairs' give 1"),
    ],
    ids=[
        *("verdict", "pair-verdict", "twice", "no-pair", "plan-misses", "plan-blocked", "no-reason", "no-plan"),
        *("unknown-alone", "exit"),
    ],
)
def test_validate_names_guests_and_a_plan_that_contradict_the_report(evacuated, change, problem) -> None:
    with pytest.raises(ReportError) as raised:
        validate_report(broken(evacuated, change))

    assert problem in str(raised.value)


def test_the_schema_refuses_a_guest_verdict_not_in_the_matrix_words(evacuated) -> None:
    with pytest.raises(ReportError, match="does not match its schema"):
        validate_report(broken(evacuated, lambda r: r["guests"][0].update(verdict="movable")))


def test_text_shows_the_guest_table_why_a_guest_cannot_go_and_the_plan(evacuated) -> None:
    lines = rendered(evacuated, Format.text).splitlines()

    start = lines.index(next(line for line in lines if line.startswith("guests:")))
    assert lines[start].split() == ["guests:", "guest", "hostb"]
    assert [line.split() for line in lines[start + 1 : start + 4]] == [
        ["web", "pass"],
        ["db", "FAIL"],
        ["gone", "not", "checked"],
    ]
    assert "db -> hostb: fail" in lines
    assert f"          fix: {DB_FIX}" in lines
    assert lines[-5:] == [
        "plan:",
        "  web -> hostb",
        "  db: stays on hosta: hostb: guest.storage fails",
        "  gone: stays on hosta: not checked anywhere",
        "guests: 1 of 3 can leave (1 pass, 1 fail, 1 not checked); exit status 1",
    ]


def test_markdown_has_the_guest_table_and_the_plan(evacuated) -> None:
    markdown = rendered(evacuated, Format.markdown)

    assert "| guest | hostb |\n|---|---|\n| web | pass |\n| db | FAIL |\n| gone | not checked |" in markdown
    assert f"    - fix: `{DB_FIX}`" in markdown
    assert markdown.splitlines()[2].startswith("**FAILED**: 0 fail")  # the run's verdict: the guests count
    assert markdown.splitlines()[2].endswith(
        "; guests: 1 of 3 can leave (1 pass, 1 fail, 1 not checked) (exit status 1)"
    )
    assert markdown.rstrip().endswith(
        "- web -> hostb\n- db: stays on hosta: hostb: guest.storage fails\n- gone: stays on hosta: not checked anywhere"
    )


def test_html_has_a_guest_table_with_a_cell_per_destination(evacuated) -> None:
    page = rendered(evacuated, Format.html)

    table = page[page.index('<table id="guest-table">') :]
    table = table[: table.index("</table>")]
    assert '<tr><th>db</th><td class="fail">fail</td></tr>' in table
    assert '<tr><th>gone</th><td class="not-checked">not checked</td></tr>' in table
    assert "<li>db: stays on hosta: hostb: guest.storage fails</li>" in page
    banner = page[page.index('id="verdict">') : page.index("</div>", page.index('id="verdict">'))]
    assert banner.startswith('id="verdict">FAILED: ') and "; guests: 1 of 3 can leave" in banner, banner
    assert banner.endswith("(exit status 1)")  # the run's, not the pair's 0


def test_junit_has_one_testcase_per_guest_and_destination(evacuated) -> None:
    root = ET.fromstring(rendered(evacuated, Format.junit).split("\n", 1)[1])

    (suite,) = [suite for suite in root if suite.get("name") == "migdoctor guests"]
    cases = {case.get("name"): case for case in suite}
    assert list(cases) == ["web (hosta -> hostb)", "db (hosta -> hostb)", "gone (hosta -> hostb)"]
    assert len(cases["web (hosta -> hostb)"]) == 0  # a pass
    failure = cases["db (hosta -> hostb)"].find("failure")
    assert failure is not None and failure.get("message", "").startswith("db (hosta -> hostb): guest.storage: vda")
    assert DB_FIX in (failure.text or "")
    error = cases["gone (hosta -> hostb)"].find("error")
    assert error is not None and error.get("type") == "not checked"
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("3", "1", "1")
    assert int(root.get("failures", "")) >= 1


def test_a_report_without_guests_has_neither_key_and_renders_as_before(judge_report) -> None:
    report = judge_report("healthy")

    assert "guests" not in report and "plan" not in report
    assert "guests:" not in rendered(report, Format.text) and "## Guests" not in rendered(report, Format.markdown)
    assert json.loads(json.dumps(report)) == report


def test_diff_says_which_guest_got_worse_and_a_worse_guest_is_a_regression(evacuated) -> None:
    from migdoctor.report.diff import compare, render_text

    def moved(report: dict[str, Any]) -> None:
        web, db = report["guests"][0], report["guests"][1]
        web["findings"] = [finding("guest.cpu", "fail", "hostb lacks avx512f")]
        web["verdict"] = "fail"
        db["findings"], db["verdict"] = [finding("guest.storage", "pass", "vda on nfs")], "pass"

    diff = compare(evacuated, broken(evacuated, moved))

    assert diff["guests"] == [
        {"guest": "web (hosta -> hostb)", "old": "pass", "new": "fail", "change": "regressed"},
        {"guest": "db (hosta -> hostb)", "old": "fail", "new": "pass", "change": "improved"},
    ]
    assert diff["regressed"] is True
    assert "REGRESSED guest web (hosta -> hostb): pass -> fail" in render_text(diff)
    gone = compare(evacuated, broken(evacuated, lambda r: r["guests"].pop()))
    assert gone["guests"][0]["change"] == "no longer verified" and gone["regressed"] is True


def test_report_validate_and_render_read_a_report_with_guests(evacuated, tmp_path) -> None:
    import os
    import subprocess
    import sys

    path = tmp_path / "evacuated.json"
    path.write_text(json.dumps(evacuated), encoding="utf-8")
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(broken(evacuated, lambda r: r["plan"][1].update(destination="hostb"))), encoding="utf-8")

    def migdoctor(*args: str) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "COLUMNS": "200"}
        return subprocess.run([sys.executable, "-m", "migdoctor", *args], capture_output=True, text=True, env=env)

    assert migdoctor("report", "validate", str(path)).returncode == 0
    refused = migdoctor("report", "validate", str(bad))
    assert refused.returncode == 1 and "plan: db goes to hostb, where its verdict is not pass or warn" in refused.stderr
    shown = migdoctor("report", "render", str(path), "--format", "markdown")
    assert shown.returncode == 0 and "## Plan" in shown.stdout
