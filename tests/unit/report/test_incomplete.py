"""A pair whose path could not be determined (`? ? -> unresolved`) is incomplete, never a pass:
decided from the judged pair's path and findings, exit status 3, and said in every format."""

import copy
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import xmlschema
from rendering import rendered

from migdoctor.judging.pair import Intent
from migdoctor.report.document import (
    EXIT_COULD_NOT_RUN,
    EXIT_FAILED,
    EXIT_INCOMPLETE,
    EXIT_PASSED,
    run_exit_status,
    unverified,
    validate_report,
    verdict,
)
from migdoctor.report.writers import Format
from migdoctor.run.collect import Collected

JUNIT_XSD = xmlschema.XMLSchema(Path(__file__).resolve().parents[2] / "data" / "junit" / "junit-10.xsd")
NO_LOOK_UP = "hosta: no look-up of 'hostb-fast.lab.test' in its facts (collect with --resolve hostb-fast.lab.test)"
UNRESOLVED = "the address of hostb-fast.lab.test on hosta (dns.migration-host-resolves skip: " + NO_LOOK_UP + ")"


def source_without(captured, report="healthy", *, name=None, route=None):
    """hosta's captured facts without its look-up of NAME or its route look-up to ROUTE, as saved
    facts made without the peers' second round are."""
    facts = captured(report)["facts"]["source"]
    if name:
        facts["resolution"]["lookups"] = [item for item in facts["resolution"]["lookups"] if item["name"] != name]
    if route:
        facts["route_lookups"] = [item for item in facts["route_lookups"] if item["destination"] != route]
    return Collected(facts)


def test_a_path_whose_name_has_no_look_up_is_incomplete_not_a_pass(captured, judge_report):
    report = judge_report(src=source_without(captured, name="hostb-fast.lab.test"))

    validate_report(report)
    (pair,) = report["pairs"]
    assert pair["path"]["text"] == "hosta ? ? -> hostb unresolved:49152-49215 (hostb-fast.lab.test)"
    assert pair["totals"]["fail"] == pair["totals"]["error"] == 0  # nothing failed, and still no pass
    assert pair["unverified"] == [UNRESOLVED]
    assert pair["exit_status"] == report["exit_status"] == EXIT_INCOMPLETE
    assert report["matrix"]["hosta"]["hostb"]["verdict"] == verdict(pair) == "incomplete"


def test_a_path_whose_route_has_no_look_up_is_incomplete(captured, judge_report):
    report = judge_report(src=source_without(captured, route="198.51.100.2"))

    (pair,) = report["pairs"]
    assert pair["path"]["text"].startswith("hosta ? ? -> hostb 198.51.100.2:49152-49215")
    assert pair["unverified"][0].startswith("the link hosta's route to 198.51.100.2 leaves by (route.egress-interface ")
    assert pair["exit_status"] == EXIT_INCOMPLETE


def test_a_pair_without_a_migration_network_is_incomplete(judge_report):
    report = judge_report(intent=Intent(None, "undecided: no migration network given or inferable", True))

    (pair,) = report["pairs"]
    assert pair["unverified"] == ["the migration network (undecided: no migration network given or inferable)"]
    assert pair["exit_status"] == EXIT_INCOMPLETE


def test_the_destination_link_that_holds_the_address_is_part_of_the_path():
    path = {"name": "hostb-fast", "address": "198.51.100.9", "source_link": "a-fast", "destination_link": None}

    assert unverified("hosta", "hostb", "198.51.100.0/24", "given", path, []) == [
        "the link of hostb that holds 198.51.100.9"
    ]
    assert unverified("hosta", "hostb", "198.51.100.0/24", "given", None, []) == []  # not judged: not checked says why


def test_a_failure_outranks_an_unverified_path(captured, judge_report):
    report = judge_report("seed", src=source_without(captured, "seed", name="hostb.lab.test"))

    (pair,) = report["pairs"]
    assert pair["unverified"] and pair["exit_status"] == EXIT_FAILED
    assert verdict(pair) == "fail"


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        ([EXIT_PASSED, EXIT_INCOMPLETE, EXIT_COULD_NOT_RUN, EXIT_FAILED], EXIT_FAILED),
        ([EXIT_INCOMPLETE, EXIT_COULD_NOT_RUN, EXIT_PASSED], EXIT_COULD_NOT_RUN),
        ([EXIT_PASSED, EXIT_INCOMPLETE], EXIT_INCOMPLETE),
        ([EXIT_PASSED], EXIT_PASSED),
        ([], EXIT_COULD_NOT_RUN),
    ],
)
def test_a_run_exits_1_if_any_pair_failed_else_2_else_3_else_0(statuses, expected):
    assert run_exit_status(statuses) == expected


@pytest.fixture
def incomplete(captured, judge_report):
    return judge_report(src=source_without(captured, name="hostb-fast.lab.test"))


def test_text_names_what_could_not_be_verified(incomplete):
    lines = rendered(incomplete, Format.text).splitlines()

    assert f"not verified: {UNRESOLVED}" in lines
    assert lines[-1].endswith("; INCOMPLETE: the path is not verified")


def test_markdown_names_what_could_not_be_verified(incomplete):
    markdown = rendered(incomplete, Format.markdown)

    assert f"- Not verified: {UNRESOLVED}" in markdown.splitlines()
    assert "\n**INCOMPLETE**: 0 fail, 0 error, 0 warn," in markdown.split("## ")[0]  # the verdict first


def test_html_banner_says_incomplete_and_names_what_could_not_be_verified(incomplete):
    page = rendered(incomplete, Format.html)

    assert '<div class="banner incomplete" id="verdict">INCOMPLETE: ' in page
    assert (
        "<li>the address of hostb-fast.lab.test on hosta (dns.migration-host-resolves skip: hosta: no look-up" in page
    )


def test_html_fleet_matrix_marks_the_incomplete_pair(incomplete):
    fleet = copy.deepcopy(incomplete)
    passed = copy.deepcopy(incomplete["pairs"][0])
    passed.update(source="hostb", destination="hosta", unverified=[], exit_status=EXIT_PASSED)
    fleet["pairs"].append(passed)
    fleet["matrix"]["hostb"] = {"hosta": {**fleet["matrix"]["hosta"]["hostb"], "verdict": "pass"}}

    page = rendered(fleet, Format.html)

    assert '<td class="incomplete">incomplete</td>' in page
    assert (
        '<span class="status incomplete">INCOMPLETE</span> <code>path</code> on 1 pair(s) (hosta -&gt; hostb)' in page
    )


def test_junit_has_an_error_testcase_naming_what_was_missing(incomplete):
    xml = rendered(incomplete, Format.junit)

    JUNIT_XSD.validate(xml)
    suite = ET.fromstring(xml).find("testsuite")
    (case,) = [case for case in suite.iter("testcase") if case.get("classname") == "migdoctor.path"]
    error = case.find("error")
    assert case.get("name") == "path verified (hosta -> hostb)" and error.get("type") == "incomplete"
    assert error.get("message") == f"hosta -> hostb: path not verified: {UNRESOLVED}"
    assert suite.get("errors") == "1" and suite.get("failures") == "0"
