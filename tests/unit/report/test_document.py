"""The report document: judge() over the captured facts, validated against the shipped schema, and
write_report's promise that a reader finds a whole valid report or none at all."""

import copy
import json
import os

import pytest

from migdoctor.report.document import (
    EXIT_COULD_NOT_RUN,
    EXIT_FAILED,
    EXIT_PASSED,
    ReportError,
    facts_digest,
    stable_digest,
    validate_report,
    write_report,
)
from migdoctor.run.collect import Collected

UNREACHABLE = "hostb: ssh to root@hostb failed: ssh: connect to host hostb port 22: Connection refused"


def outcomes(findings):
    """What each check said, by id, leaving out what the saved facts cannot repeat (the probe's
    and the test migration's records, the path MTU probe's among them, are not kept in a report), and the TLS and peer-connection checks, younger
    than these captures."""
    return {
        finding["id"]: (finding["status"], finding["summary"], finding["remediation"], finding["evidence"])
        for finding in findings
        if finding["id"].split(".")[0] not in ("probe", "migration", "tls", "trust")
        and finding["id"] != "link.path-mtu"
    }


@pytest.mark.parametrize(("report", "exit_status"), [("healthy", EXIT_PASSED), ("seed", EXIT_FAILED)])
def test_judging_the_captured_facts_gives_a_valid_report_with_the_labs_findings(
    captured, judge_report, report, exit_status
):
    judged = judge_report(report, include_facts=True)

    validate_report(judged)
    assert judged["exit_status"] == exit_status
    judged_now, then = outcomes(judged["pairs"][0]["findings"]), outcomes(captured(report)["findings"])
    lacking = {key for key in then if key.startswith("firewall.")}  # facts schema 1 lacks the legacy tables
    assert {key: judged_now[key] for key in set(then) - lacking} == {key: then[key] for key in set(then) - lacking}
    assert {judged_now[key][:2] for key in lacking} == {
        (
            "skip",
            "hostb's saved facts lack the iptables-legacy tables and iptables-nft-save (facts schema 1 does not "
            "collect them): collect them again with this migdoctor",
        )
    }
    assert [judged_now[key][0] for key in set(judged_now) - set(then)] == ["pass"]  # config.value-types, added since
    assert judged["pairs"][0]["path"] == captured(report)["path"]
    assert judged["facts"] == {
        "hosta": captured(report)["facts"]["source"],
        "hostb": captured(report)["facts"]["destination"],
    }
    assert json.loads(json.dumps(judged)) == judged  # plain JSON all the way down


def test_totals_count_what_is_not_ignored_and_ignoring_every_failure_passes(judge_report):
    judged = judge_report("seed", ignore=("dns.migration-host-address", "config"))

    validate_report(judged)
    assert judged["totals"]["fail"] == 0 and judged["totals"]["ignored"] == 3
    assert judged["exit_status"] == EXIT_PASSED
    assert {f["id"] for f in judged["pairs"][0]["findings"] if f["ignored"]} == {
        "dns.migration-host-address",
        "config.migration-port-range",
        "config.value-types",
    }


def test_unreachable_destination_gives_a_valid_report_that_could_not_run(judge_report):
    judged = judge_report("healthy", dst=Collected(None, UNREACHABLE), include_facts=True)

    validate_report(judged)
    assert judged["exit_status"] == EXIT_COULD_NOT_RUN
    assert judged["not_checked"][0] == UNREACHABLE
    assert judged["not_checked"][1].startswith("no check ran: ")
    assert (judged["pairs"][0]["findings"], judged["pairs"][0]["path"]) == ([], None)
    destination = judged["hosts"]["hostb"]
    assert (destination["reached"], destination["error"], destination["identity"], destination["facts_digest"]) == (
        False,
        UNREACHABLE,
        None,
        None,
    )
    assert judged["hosts"]["hosta"]["reached"] is True
    assert judged["facts"]["hostb"] is None


def test_facts_gaps_are_listed_as_not_checked(captured, judge_report):
    facts = captured("healthy")["facts"]["destination"]
    facts["firewall"] = None
    facts["missing"].append({"fact": "firewall", "reason": "neither nft nor iptables-save is installed"})

    judged = judge_report("healthy", dst=Collected(facts))

    validate_report(judged)
    assert "hostb: firewall not collected: neither nft nor iptables-save is installed" in judged["not_checked"]
    skipped = {f["id"]: f["summary"] for f in judged["pairs"][0]["findings"] if f["status"] == "skip"}
    assert (
        skipped["firewall.migration-ports"]
        == "hostb: firewall not collected: neither nft nor iptables-save is installed"
    )


def test_write_report_writes_the_whole_report_and_nothing_else(tmp_path, judge_report):
    report = judge_report("seed")
    target = tmp_path / "reports" / "seed.json"

    write_report(report, target)

    assert json.loads(target.read_text()) == report
    assert os.listdir(target.parent) == ["seed.json"]


@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o027, 0o640), (0o077, 0o600)])
def test_write_report_mode_follows_the_umask(tmp_path, judge_report, umask, mode):
    target = tmp_path / "report.json"
    previous = os.umask(umask)
    try:
        write_report(judge_report("healthy"), target)
    finally:
        os.umask(previous)

    assert target.stat().st_mode & 0o777 == mode


def test_invalid_report_is_refused_before_anything_is_written(tmp_path, judge_report):
    report = judge_report("seed")
    report["pairs"][0]["findings"][0]["status"] = "failed"
    target = tmp_path / "report.json"
    target.write_text("the previous report\n")

    with pytest.raises(ReportError) as raised:
        write_report(report, target)

    assert str(
        raised.value
    ) == "report does not match its schema: pairs/0/findings/0/status: 'failed' is not one of " + (
        "['pass', 'warn', 'fail', 'skip', 'error']"
    )
    assert os.listdir(tmp_path) == ["report.json"]
    assert target.read_text() == "the previous report\n"


def test_failed_write_leaves_no_partial_file(tmp_path, judge_report, monkeypatch):
    target = tmp_path / "report.json"
    target.write_text("the previous report\n")

    def disk_full(source, destination):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", disk_full)
    with pytest.raises(ReportError, match=f"^{target}: cannot write report: No space left on device$"):
        write_report(judge_report("healthy"), target)

    assert os.listdir(tmp_path) == ["report.json"]
    assert target.read_text() == "the previous report\n"


def test_report_directory_that_cannot_be_made_is_a_report_error(tmp_path, judge_report):
    (tmp_path / "reports").write_text("a file where the directory should be\n")
    target = tmp_path / "reports" / "report.json"

    with pytest.raises(ReportError, match=f"^{target}: cannot write report: "):
        write_report(judge_report("healthy"), target)


def test_stable_digest_ignores_collection_time_and_byte_counters_but_not_a_setting(captured):
    facts = captured("seed")["facts"]["destination"]
    later = copy.deepcopy(facts)
    later["collected_at"], later["collection_seconds"] = "2030-01-01T00:00:00+00:00", 9.9
    later["peer_connection"] = {"uri": "qemu+ssh://root@hostb/system", "ok": True, "seconds": 0.35}
    for link in later["links"]:
        link["rx_bytes"] += 1000
        link["tx_bytes"] += 2000

    assert stable_digest(later) == stable_digest(facts)
    assert facts_digest(later) != facts_digest(facts)
    later["config"]["qemu_conf"]["values"]["migration_host"] = "hostb-fast.lab.test"
    assert stable_digest(later) != stable_digest(facts)
