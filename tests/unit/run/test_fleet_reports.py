"""A fleet's report as CI and a change request read it: JUnit names each testcase's pair (six
pairs are six results, not one), and `report diff` compares two fleet reports pair by pair, a
schema 2 report among them."""

import json
import xml.etree.ElementTree as ET
from collections import Counter
from functools import partial
from pathlib import Path
from typing import Any

import cli_runs

from migdoctor.report.compact import expanded_pairs
from migdoctor.report.document import EXIT_COULD_NOT_RUN, exit_status, validate_report

NETWORK = ("--migration-network", "198.51.100.0/24")


migdoctor = partial(cli_runs.migdoctor, None, timeout=120)


def fleet_report(tmp_path: Path, name: str, facts_dir: Path, *hosts: str) -> Path:
    output = tmp_path / f"{name}.json"
    selection = ["--to-each-other", *hosts] if hosts else ["--all"]
    migdoctor("check", *selection, "--facts-dir", str(facts_dir), *NETWORK, "--output", str(output))
    return output


def test_junit_names_each_testcase_with_its_pair_and_each_failure_with_its_hosts(tmp_path, facts_dir):
    xml = tmp_path / "fleet.xml"
    migdoctor("check", "--all", "--facts-dir", str(facts_dir), *NETWORK, "--output", str(xml))

    suites = ET.parse(xml).getroot().findall("testsuite")
    results = Counter((case.get("classname"), case.get("name")) for suite in suites for case in suite.iter("testcase"))
    assert len(suites) == 6 and max(results.values()) == 1  # a CI tool keys a result by classname and name
    address = sorted(name for _, name in results if name.startswith("dns.migration-host-address "))
    assert address == [
        f"dns.migration-host-address ({src} -> {dst})"
        for src, dst in [("kvm1", "kvm2"), ("kvm1", "kvm3"), ("kvm2", "kvm1"), ("kvm2", "kvm3"), ("kvm3", "kvm1"), ("kvm3", "kvm2")]
    ]  # fmt: skip
    failures = [(suite.get("name"), failure) for suite in suites for failure in suite.iter("failure")]
    assert failures
    for suite_name, failure in failures:
        assert failure.get("message").startswith(suite_name.removeprefix("migdoctor ") + ": ")


def test_diff_of_two_fleet_reports_compares_them_pair_by_pair(tmp_path, facts_dir):
    old = fleet_report(tmp_path, "old", facts_dir)
    kvm1 = json.loads((facts_dir / "kvm1.json").read_text())
    kvm1["resolution"]["lookups"] = []  # saved again without the second round's look-ups
    (facts_dir / "kvm1.json").write_text(json.dumps(kvm1))
    new = fleet_report(tmp_path, "new", facts_dir)

    done = migdoctor("report", "diff", str(old), str(new), "--format", "json")
    text = migdoctor("report", "diff", str(old), str(new)).stdout.splitlines()

    diff = json.loads(done.stdout)
    assert done.returncode == 1 and diff["regressed"] is True
    by_pair = {pair["pair"]: pair for pair in diff["pairs"]}
    assert len(by_pair) == 6 and [name for name, pair in by_pair.items() if pair["regressed"]] == ["kvm1 -> kvm2"]
    assert by_pair["kvm1 -> kvm2"]["new"]["exit_status"] == 3  # incomplete now
    assert "NO LONGER VERIFIED dns.migration-host-address: pass -> skip" in text
    headers = [line.split(":")[0] for line in text if line.startswith("kvm")]
    assert headers == ["kvm1 -> kvm2", "kvm1 -> kvm3", "kvm2 -> kvm1", "kvm3 -> kvm1"]  # kvm1's facts changed
    assert text[-2:] == ["2 pairs unchanged", "a check regressed"]


def test_a_pair_the_new_fleet_report_lacks_is_no_longer_verified(tmp_path, facts_dir):
    old = fleet_report(tmp_path, "old", facts_dir)
    new = fleet_report(tmp_path, "new", facts_dir, "kvm1", "kvm2")

    done = migdoctor("report", "diff", str(old), str(new))

    assert done.returncode == 1
    assert "NO LONGER VERIFIED kvm1 -> kvm3: not in the new report" in done.stdout.splitlines()


def as_schema_2(report: dict[str, Any]) -> dict[str, Any]:
    """REPORT as migdoctor 0.1 wrote it: no incomplete verdict, could not run outranking a failure,
    the run's exit status the highest of its pairs', every pair whole."""
    report["pairs"] = list(expanded_pairs(report))
    del report["shared"]
    for pair in report["pairs"]:
        del pair["unverified"]
        reached = all(report["hosts"][label]["reached"] for label in (pair["source"], pair["destination"]))
        pair["exit_status"] = exit_status(pair["findings"], False) if reached else EXIT_COULD_NOT_RUN
        cell = report["matrix"][pair["source"]][pair["destination"]]
        if cell["verdict"] == "incomplete":
            cell["verdict"] = "warn" if pair["totals"]["warn"] else "pass"
    report.pop("run_by", None)  # schema 3's
    report["schema_version"] = "2"
    report["exit_status"] = max(pair["exit_status"] for pair in report["pairs"])
    return report


def test_a_schema_2_fleet_report_validates_renders_and_diffs_pair_by_pair(tmp_path, facts_dir):
    new = fleet_report(tmp_path, "new", facts_dir)
    old = tmp_path / "old.json"
    older = as_schema_2(json.loads(new.read_text()))
    old.write_text(json.dumps(older))

    validate_report(older)
    valid = migdoctor("report", "validate", str(old))
    rendered = migdoctor("report", "render", str(old))
    diff = migdoctor("report", "diff", str(old), str(new), "--format", "json")

    assert valid.stdout == f"{old}: valid migdoctor report (schema 2)\n"
    assert rendered.returncode == 0 and rendered.stdout.splitlines()[-1].startswith("6 pairs: 4 pass, 2 fail; ")
    assert diff.returncode == 0 and len(json.loads(diff.stdout)["pairs"]) == 6
