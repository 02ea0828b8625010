"""Every format rendered from the committed example reports (reports/example-*.json, made by
scripts/make-examples.sh in the lab): the seed with a test migration, the same lab after
migration_host was set, and the healthy scenario. JUnit is validated against the Jenkins xUnit
plugin's JUnit schema (tests/data/junit/junit-10.xsd)."""

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import xmlschema
from rendering import rendered

from migdoctor.report.html import fix_lines, throughput_charts
from migdoctor.report.writers import FORMATS, Format, pairs_of, writer
from migdoctor.run.collect import Collected

ROOT = Path(__file__).resolve().parents[3]
EXAMPLES = {name: ROOT / "reports" / f"example-{name}.json" for name in ("seed", "seed-fixed", "healthy")}
JUNIT_XSD = xmlschema.XMLSchema(ROOT / "tests" / "data" / "junit" / "junit-10.xsd")
MIGRATION_HOST_FIX = 'hostb:/etc/libvirt/qemu.conf: migration_host = "hostb-fast.lab.test"'


def example(name: str) -> dict:
    return json.loads(EXAMPLES[name].read_text(encoding="utf-8"))


def test_every_registered_format_has_its_writer():
    assert set(FORMATS) == set(Format)
    for name in Format:
        assert writer(name).name is name


def test_the_examples_were_made_by_a_test_migration():
    for name in EXAMPLES:
        legs = example(name)["pairs"][0]["migration_trial"]["legs"]
        assert [leg["ok"] for leg in legs] == [True, True]
        assert all(len(leg["throughput"]) >= 5 for leg in legs)


@pytest.mark.parametrize("name", EXAMPLES)
@pytest.mark.parametrize("output_format", list(Format))
def test_every_format_renders_every_example(name, output_format):
    report = example(name)

    text = rendered(report, output_format)

    first = {
        Format.text: "path: hosta ",
        Format.json: "{",
        Format.markdown: "# Migration path check: hosta -> hostb",
        Format.html: "<!DOCTYPE html>",
        Format.junit: '<?xml version="1.0" encoding="UTF-8"?>',
    }[output_format]
    assert text.startswith(first)
    for finding in report["pairs"][0]["findings"]:
        assert finding["id"] in text


def test_json_renders_the_record_unchanged():
    report = example("seed")
    assert json.loads(rendered(report, Format.json)) == report


@pytest.mark.parametrize("name", EXAMPLES)
def test_junit_is_valid_against_the_jenkins_schema(name):
    report = example(name)

    xml = rendered(report, Format.junit)

    JUNIT_XSD.validate(xml)
    (suite,) = ET.fromstring(xml).findall("testsuite")
    assert suite.get("name") == "migdoctor hosta -> hostb"
    assert [case.get("name") for case in suite.findall("testcase")] == [
        f"{f['id']} (hosta -> hostb)" for f in report["pairs"][0]["findings"]
    ]
    assert int(suite.get("failures")) == report["totals"]["fail"]
    assert int(suite.get("skipped")) == report["totals"]["skip"]


def test_junit_maps_each_status():
    report = example("seed")

    cases = {case.get("name"): case for case in ET.fromstring(rendered(report, Format.junit)).iter("testcase")}
    cases = {name.removesuffix(" (hosta -> hostb)"): case for name, case in cases.items()}

    failure = cases["dns.migration-host-address"].find("failure")
    assert failure.get("message").startswith(
        "hosta -> hostb: hostb.lab.test (hostname (migration_host unset)) resolves on hosta"
    )
    assert "hosta: getaddrinfo(hostb.lab.test) = 192.0.2.2 (expected 198.51.100.2)" in failure.text  # no Python list
    assert f"fix: {MIGRATION_HOST_FIX}" in failure.text
    assert cases["listen.migration-address"].find("system-out").text.startswith("WARN ")
    assert cases["link.speed"].find("skipped").get("message") == "hosta -> hostb: no --min-link-speed given"
    assert list(cases["dns.migration-host-resolves"]) == []  # a pass is an empty testcase


def test_junit_of_an_ignored_failure_is_skipped_and_an_error_stays_an_error(judge_report):
    report = judge_report("seed", ignore=("dns.migration-host-address",))
    report["pairs"][0]["findings"][0].update(status="error", summary="check raised KeyError: 'links'")

    xml = rendered(report, Format.junit)

    JUNIT_XSD.validate(xml)
    cases = {case.get("name").removesuffix(" (hosta -> hostb)"): case for case in ET.fromstring(xml).iter("testcase")}
    skipped = cases["dns.migration-host-address"].find("skipped").get("message")
    assert skipped.startswith("hosta -> hostb: accepted risk (no reason given): ")
    error = cases["dns.migration-host-resolves"].find("error").get("message")
    assert error == "hosta -> hostb: check raised KeyError: 'links'"


def test_junit_of_an_unreachable_host_is_an_error_not_an_empty_green_suite(judge_report):
    report = judge_report(dst=Collected(None, "hostb: ssh to root@hostb failed: Connection refused"))

    xml = rendered(report, Format.junit)

    JUNIT_XSD.validate(xml)
    suite = ET.fromstring(xml).find("testsuite")
    assert (suite.get("tests"), suite.get("errors")) == ("1", "1")
    assert suite.find("testcase").get("name") == "reach hostb (hosta -> hostb)"
    assert suite.find("testcase/error").get("message") == (
        "hosta -> hostb: hostb: ssh to root@hostb failed: Connection refused"
    )


def test_junit_of_a_refused_test_migration_is_an_error_not_a_skip(judge_report):
    report = judge_report("healthy")
    refused = "hostb: 200 MiB free, the 256 MiB canary needs 320"
    report["pairs"][0]["migration_trial"] = {"refused": refused}

    xml = rendered(report, Format.junit)

    JUNIT_XSD.validate(xml)
    suite = ET.fromstring(xml).find("testsuite")
    case = next(case for case in suite.iter("testcase") if case.get("name") == "test migration (hosta -> hostb)")
    assert case.find("error").get("message") == f"hosta -> hostb: {refused}"
    assert case.get("classname") == "migdoctor.migration"
    assert suite.get("errors") == "1"


def test_html_has_the_path_the_chart_and_the_fix_without_script_or_remote_resource():
    report = example("seed")

    page = rendered(report, Format.html)

    assert "<script" not in page.lower() and "@import" not in page and "url(" not in page
    assert not [ref for ref in ("src=", "href=", "xlink:href") if ref in page]
    assert page.count("NOT on the migration network 198.51.100.0/24") >= 3  # predicted and both legs
    assert f'<pre id="fixes">{MIGRATION_HOST_FIX.replace(chr(34), "&#34;")}' in page
    assert 'id="throughput-chart"' in page and "a-lan effective speed 100 Mb/s" in page


def test_html_escapes_what_hosts_say():
    report = example("seed")
    report["pairs"][0]["findings"][0].update(status="fail", summary="<img src=x onerror=alert(1)>")

    assert "<img src=x" not in rendered(report, Format.html)


def test_fix_lines_are_each_said_once():
    assert fix_lines(pairs_of(example("seed"))[0]).count(MIGRATION_HOST_FIX) == 1


def test_chart_scales_the_rate_and_draws_the_links_speed():
    charts = throughput_charts(pairs_of(example("healthy"))[0])

    assert [chart["reference"]["label"] for chart in charts] == [
        "a-fast effective speed 1000 Mb/s",
        "b-fast effective speed 1000 Mb/s",
    ]
    for chart in charts:
        xs, ys = zip(*(map(float, point.split(",")) for point in chart["points"].split()), strict=True)
        assert chart["left"] <= min(xs) and max(xs) <= chart["right"]
        assert chart["top"] <= min(ys) and max(ys) <= chart["bottom"]


def test_chart_absent_without_a_test_migration(judge_report):
    assert throughput_charts(pairs_of(judge_report("seed"))[0]) == []


def test_html_of_an_unreachable_host_says_what_could_not_be_checked(judge_report):
    report = judge_report(dst=Collected(None, "hostb: ssh to root@hostb failed: Connection refused"))

    page = rendered(report, Format.html)

    assert "COULD NOT RUN" in page
    assert "No path could be predicted: hostb: ssh to root@hostb failed: Connection refused." in page
    assert "<code>hostb: ssh to root@hostb failed: Connection refused</code>" in page  # in place of its digest


def test_html_draws_a_failed_test_migration_leg_as_failed():
    report = example("seed")
    report["pairs"][0]["measured_path"][0].update(ok=False)

    page = rendered(report, Format.html)

    assert "measured hosta -&gt; hostb: the test migration failed: see migration.test-migration" in page
    assert "✘ FAILED" in page
