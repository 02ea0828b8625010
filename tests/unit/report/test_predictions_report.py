"""A report with predicted guests: `prediction` in each guests entry and `evacuation` validate
against schema 3, and text, Markdown and HTML show each guest's predicted time and downtime
against the window. The pair is the lab's healthy one (tests/data/facts)."""

from typing import Any

import pytest
from rendering import rendered

from migdoctor.report.document import ReportError, guest_record, guest_statuses, run_exit_status, validate_report
from migdoctor.report.writers import Format

WEB = {
    "converges": True,
    "total_s": 38.2,
    "data_bytes": 4_400_000_000,
    "downtime_ms": 61.4,
    "rounds": 2,
    "dirty_rate_mib_s": 10.0,
    "bandwidth_mbps": 1000.0,
    "bandwidth_source": "probe",
    "capped_by_max_speed": False,
    "setup_s": None,
    "ends_at_s": 38.2,
}
HOT = {
    "converges": False,
    "total_s": None,
    "data_bytes": 4_300_000_000,
    "downtime_ms": None,
    "rounds": 1,
    "dirty_rate_mib_s": 200.0,
    "bandwidth_mbps": 1000.0,
    "bandwidth_source": "probe",
    "capped_by_max_speed": False,
    "why_not": "the guest dirties 200.0 MiB/s, at or above the 119.2 MiB/s the stream carries",
}
FAILED = {
    "id": "guest.convergence",
    "title": "guest.convergence",
    "area": "guest",
    "severity": "high",
    "origin": "built-in",
    "status": "fail",
    "summary": "guest hot will not converge to hostb",
    "evidence": [],
    "remediation": "virsh migrate --live --p2p hot qemu+ssh://hostb/system --auto-converge",
    "ignored": False,
    "duration_s": 0.001,
}


@pytest.fixture
def predicted(judge_report) -> dict[str, Any]:
    report = judge_report("healthy")
    web = guest_record("web", "hosta", "hostb", [], [], "pass") | {"prediction": WEB}
    hot = guest_record("hot", "hosta", "hostb", [FAILED], [], "pass") | {"prediction": HOT}
    report |= {
        "guests": [web, hot],
        "plan": [
            {"guest": "web", "destination": "hostb", "reason": None},
            {"guest": "hot", "destination": None, "reason": "hostb: fail"},
        ],
        "evacuation": {
            "parallel": 1,
            "window_s": 3600.0,
            "total_s": None,
            "fits": False,
            "missing_window_by": ["hot"],
            "not_predicted": [],
        },
    }
    report["exit_status"] = run_exit_status(
        {pair["exit_status"] for pair in report["pairs"]} | guest_statuses(report["guests"])
    )
    return report


def test_predictions_and_the_evacuation_validate(predicted) -> None:
    validate_report(predicted)


def test_the_schema_refuses_a_prediction_without_its_source(predicted) -> None:
    broken = {
        **predicted,
        "guests": [predicted["guests"][0] | {"prediction": {"converges": True}}, predicted["guests"][1]],
    }
    with pytest.raises(ReportError, match="does not match its schema"):
        validate_report(broken)


def test_html_shows_each_guests_time_and_downtime_against_the_window(predicted) -> None:
    page = rendered(predicted, Format.html)
    table = page[page.index('<table id="guest-table">') :]
    table = table[: table.index("</table>")]
    assert '<span class="meta prediction">38.2 s, 61.4 ms down, ends at 38.2 s</span>' in table
    assert '<span class="meta prediction">does not converge</span>' in table
    assert (
        '<p id="evacuation" class="fail">evacuation (one at a time): unknown; does NOT fit the 3600 s window; '
        "missed by hot</p>"
    ) in page


def test_text_and_markdown_say_the_evacuation(predicted) -> None:
    line = "evacuation (one at a time): unknown; does NOT fit the 3600 s window; missed by hot"
    assert line in rendered(predicted, Format.text).splitlines()
    assert "Evacuation (one at a time): unknown; does NOT fit the 3600 s window; missed by hot" in rendered(
        predicted, Format.markdown
    )
