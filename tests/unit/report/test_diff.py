"""report diff's judgement over the committed example reports and the captured seed: what counts
as worse, what is an accepted risk, and what an older report without the newer fields shows."""

import copy
import json
from pathlib import Path

from migdoctor.report.diff import compare, render_markdown, render_text
from migdoctor.run.collect import Collected

EXAMPLES = Path(__file__).resolve().parents[3] / "reports"


def example(name: str) -> dict:
    return json.loads((EXAMPLES / f"example-{name}.json").read_text(encoding="utf-8"))


def test_a_report_against_itself_changes_nothing():
    diff = compare(example("healthy"), example("healthy"))
    (pair,) = diff["pairs"]

    assert (pair["findings"], pair["facts_changed"], diff["regressed"]) == ([], [], False)
    assert render_text(diff).splitlines()[-1] == "no worse than before"


def test_a_host_no_longer_reached_is_a_regression(judge_report):
    old = judge_report("healthy")
    new = judge_report("healthy", dst=Collected(None, "hostb: ssh to root@hostb failed: Connection refused"))

    diff = compare(old, new)
    (pair,) = diff["pairs"]

    assert diff["regressed"] is True
    assert pair["facts_changed"][0]["host"] == "hostb" and pair["facts_changed"][0]["new"] is None
    assert "| predicted path | hosta a-fast" in render_markdown(diff)


def test_accepting_a_failure_with_ignore_is_no_regression(judge_report):
    old = judge_report("seed", ignore=("config",))
    new = judge_report("seed", ignore=("config", "dns.migration-host-address"))

    diff = compare(old, new)

    assert diff["pairs"][0]["findings"] == [
        {"id": "dns.migration-host-address", "old": "fail", "new": "fail (ignored)", "change": "improved"}
    ]
    assert diff["regressed"] is False


def test_leaving_the_migration_network_regresses_even_with_no_check_run(judge_report):
    old, new = judge_report("healthy"), judge_report("seed")
    new["pairs"][0]["findings"], old["pairs"][0]["findings"] = [], []

    assert compare(old, new)["regressed"] is True


def test_an_older_report_without_measured_path_or_stable_digest_still_compares():
    old, new = example("seed"), example("seed-fixed")
    for report in (old, new):
        del report["pairs"][0]["measured_path"]
        for host in report["hosts"].values():
            del host["facts_stable_digest"]

    diff = compare(old, new)
    (pair,) = diff["pairs"]

    assert pair["test_migration"]["old"]["source_link"] == "a-lan"
    assert pair["test_migration"]["old"]["on_migration_network"] is None
    assert {f["digest"] for f in pair["facts_changed"]} == {"facts_digest"}
    assert "(full digest: differs every run)" in render_text(diff)


def test_an_unchanged_host_shows_no_facts_change():
    old = example("seed")
    new = copy.deepcopy(old)
    new["hosts"]["hosta"]["facts_digest"] = "sha256:" + "0" * 64  # another collection, same host

    assert compare(old, new)["pairs"][0]["facts_changed"] == []


def test_a_check_that_passed_and_now_skips_is_no_longer_verified_a_regression(captured, judge_report):
    old = judge_report("healthy")
    facts = captured("healthy")["facts"]["source"]
    facts["resolution"]["lookups"] = []  # saved facts without the second round's look-ups
    new = judge_report("healthy", src=Collected(facts))

    diff = compare(old, new)

    changes = {f["id"]: (f["old"], f["new"], f["change"]) for f in diff["pairs"][0]["findings"]}
    assert changes["dns.migration-host-address"] == ("pass", "skip", "no longer verified")
    assert diff["regressed"] is True
    assert "NO LONGER VERIFIED dns.migration-host-address: pass -> skip" in render_text(diff).splitlines()


def test_a_failure_that_now_skips_or_is_gone_is_no_longer_verified_never_improved(judge_report):
    old, new = judge_report("seed"), judge_report("seed")
    findings = new["pairs"][0]["findings"]
    (address,) = [f for f in findings if f["id"] == "dns.migration-host-address"]
    address.update(status="skip", summary="no look-up")
    findings.remove(next(f for f in findings if f["id"] == "config.migration-port-range"))

    diff = compare(old, new)

    changes = {f["id"]: (f["old"], f["new"], f["change"]) for f in diff["pairs"][0]["findings"]}
    assert changes["dns.migration-host-address"] == ("fail", "skip", "no longer verified")
    assert changes["config.migration-port-range"] == ("fail", None, "no longer verified")
    assert diff["regressed"] is True
    assert "| no longer verified | `config.migration-port-range` | fail | absent |" in render_markdown(diff)
