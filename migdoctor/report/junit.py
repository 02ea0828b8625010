"""The report as JUnit XML for CI (GitLab, Jenkins): one testsuite per pair, one testcase per
check, each named with its pair (CI tools key results by classname and name, so six pairs are six
results) and each message naming the hosts. fail -> <failure> (summary, evidence, fix), error ->
<error>, skip and ignored -> <skipped>, warn -> a pass whose <system-out> says why, as kube-bench's
JUnit output does. A host that could not be reached, a test migration that could not run, or a
path that could not be verified is an <error> testcase (the run's exit status is 2, or 3 for the
path), so a pipeline never sees an empty or skipped, green suite."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from functools import partial
from typing import Any

from migdoctor.report.guests import blocking, why_not
from migdoctor.report.safe import printable_report
from migdoctor.report.values import is_pointer, reason, shown
from migdoctor.report.writers import Format, RenderOptions, Writer, pairs_of


def details(finding: dict[str, Any]) -> str:
    lines = [finding["summary"]]
    for item in finding["evidence"]:
        expected = f" (expected {shown(item['expected'])})" if item["expected"] is not None else ""
        lines.append(f"{item['host']}: {item['item']} = {shown(item['actual'])}{expected}")
    if finding["remediation"]:
        lines.append(("" if is_pointer(finding["remediation"]) else "fix: ") + finding["remediation"])
    return "\n".join(lines)


def testcase(suite: ET.Element, finding: dict[str, Any], pair: str, why: str | None = None) -> None:
    case = ET.SubElement(
        suite,
        "testcase",
        name=f"{finding['id']} ({pair})",
        classname=f"migdoctor.{finding['area']}",
        time=f"{finding['duration_s']:.6f}",
    )
    status, said = finding["status"], f"{pair}: {finding['summary']}"
    if finding["ignored"] and status in ("fail", "error", "warn"):
        accepted = f"{pair}: accepted risk ({why or 'no reason given'}): {finding['summary']}"
        ET.SubElement(case, "skipped", message=accepted).text = details(finding)
    elif status == "fail":
        ET.SubElement(case, "failure", type=finding["severity"], message=said).text = details(finding)
    elif status == "error":
        ET.SubElement(case, "error", type="check raised", message=said).text = details(finding)
    elif status == "skip":
        ET.SubElement(case, "skipped", message=said)
    elif status == "warn":
        ET.SubElement(case, "system-out").text = "WARN " + details(finding)


def testsuite(parent: ET.Element, report: dict[str, Any]) -> dict[str, int]:
    hosts = report["hosts"]
    findings = report["findings"]
    pair = f"{hosts['source']['label']} -> {hosts['destination']['label']}"
    unreachable = [host for host in hosts.values() if not host["reached"]]
    gaps = [
        ("hosts", f"reach {host['label']}", "could not run", host["error"] or "not reached") for host in unreachable
    ]
    if refused := (report.get("migration_trial") or {}).get("refused"):
        gaps.append(("migration", "test migration", "could not run", refused))
    if unverified := report.get("unverified"):  # schema 1 and 2 reports have none
        gaps.append(("path", "path verified", "incomplete", "path not verified: " + "; ".join(unverified)))
    counts = {
        "tests": len(findings) + len(gaps),
        "failures": sum(1 for f in findings if f["status"] == "fail" and not f["ignored"]),
        "errors": sum(1 for f in findings if f["status"] == "error" and not f["ignored"]) + len(gaps),
        "skipped": sum(1 for f in findings if f["status"] == "skip" or (f["ignored"] and f["status"] != "pass")),
    }
    attributes = {
        "name": f"migdoctor {pair}",
        "timestamp": report["started_at"],
        "time": f"{report['duration_s']:.3f}",
        **{key: str(value) for key, value in counts.items()},
    }
    suite = ET.SubElement(parent, "testsuite", attributes)
    properties = ET.SubElement(suite, "properties")
    path = report["path"]
    for name, value in (
        ("run_id", report["run_id"]),
        ("tool_version", report["tool_version"]),
        ("migration_network", report["intent"]["migration_network"] or "undecided"),
        ("path", path["text"] if path else "unknown"),
        ("on_migration_network", str(path["on_migration_network"] if path else None).lower()),
    ):
        ET.SubElement(properties, "property", name=name, value=value)
    for area, name, kind, why in gaps:
        case = ET.SubElement(suite, "testcase", name=f"{name} ({pair})", classname=f"migdoctor.{area}")
        ET.SubElement(case, "error", type=kind, message=f"{pair}: {why}")
    for finding in findings:
        testcase(suite, finding, pair, reason(report, finding))
    if report["not_checked"]:
        ET.SubElement(suite, "system-out").text = "\n".join(f"not checked: {line}" for line in report["not_checked"])
    return counts


def guest_suite(parent: ET.Element, report: dict[str, Any]) -> dict[str, int]:
    """One testcase per guest and destination: a guest that cannot go there fails (its blocking
    findings as the text), one not checked or incomplete there is an error, a warning passes."""
    guests = report["guests"]
    counts = {
        "tests": len(guests),
        "failures": sum(1 for guest in guests if guest["verdict"] == "fail"),
        "errors": sum(1 for guest in guests if guest["verdict"] in ("not checked", "incomplete")),
    }
    suite = ET.SubElement(
        parent, "testsuite", {"name": "migdoctor guests", **{key: str(value) for key, value in counts.items()}}
    )
    for guest in guests:
        where = f"{guest['source']} -> {guest['destination']}"
        case = ET.SubElement(suite, "testcase", name=f"{guest['name']} ({where})", classname="migdoctor.guest")
        said = "\n\n".join(details(finding) for finding in blocking(guest))
        if guest["verdict"] in ("pass", "warn"):
            if said:
                ET.SubElement(case, "system-out").text = "WARN " + said
            continue
        kind = "failure" if guest["verdict"] == "fail" else "error"
        message = f"{guest['name']} ({where}): {why_not(guest)}"
        ET.SubElement(case, kind, type=guest["verdict"], message=message).text = said or None
    return counts


def render_junit(report: dict[str, Any], _options: RenderOptions) -> str:
    report = printable_report(report)  # XML 1.0 has no place for control characters: shown as escapes
    root = ET.Element("testsuites", name="migdoctor")
    totals = {"tests": 0, "failures": 0, "errors": 0}
    suites = [partial(testsuite, root, pair) for pair in pairs_of(report)]
    if report.get("guests"):
        suites.append(partial(guest_suite, root, report))
    for suite in suites:
        counts = suite()
        totals = {key: totals[key] + counts[key] for key in totals}
    root.attrib.update({key: str(value) for key, value in totals.items()}, time=f"{report['duration_s']:.3f}")
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


WRITER = Writer(Format.junit, render_junit)
