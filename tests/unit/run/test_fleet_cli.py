"""`migdoctor check` over many pairs, judging a facts directory (no host is contacted): which
pairs each form names, the schema 3 report (every host once, a pair per ordered pair, the matrix,
the run's exit status), a bad file taking out only its host's pairs, and the text's matrix and
causes."""

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from migdoctor.report.compact import expanded_pairs
from migdoctor.report.document import validate_report

NETWORK = ("--migration-network", "198.51.100.0/24")


def check(tmp_path: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    output = tmp_path / "report.json"
    done = subprocess.run(
        [sys.executable, "-m", "migdoctor", "check", *args, *NETWORK, "--output", str(output)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COLUMNS": "200", "MIGDOCTOR_INVENTORY": "/dev/null"},
    )
    return done, json.loads(output.read_text()) if output.exists() else {}


def pairs(report: dict[str, Any]) -> list[tuple[str, str]]:
    return [(pair["source"], pair["destination"]) for pair in report["pairs"]]


def test_all_judges_every_ordered_pair_of_the_directory_once(tmp_path, facts_dir):
    done, report = check(tmp_path, "--facts-dir", str(facts_dir), "--all")

    validate_report(report)
    assert pairs(report) == [
        ("kvm1", "kvm2"), ("kvm1", "kvm3"), ("kvm2", "kvm1"), ("kvm2", "kvm3"), ("kvm3", "kvm1"), ("kvm3", "kvm2")
    ]  # fmt: skip
    assert list(report["hosts"]) == ["kvm1", "kvm2", "kvm3"]
    verdicts = {(s, d): cell["verdict"] for s, row in report["matrix"].items() for d, cell in row.items()}
    assert verdicts[("kvm1", "kvm2")] == "pass" and verdicts[("kvm1", "kvm3")] == "fail"
    assert report["matrix"]["kvm1"]["kvm2"]["source_link"] == "a-fast"
    assert report["exit_status"] == 1 == done.returncode  # a pair failed: whatever the others are
    whole = expanded_pairs(report)
    assert report["totals"]["fail"] == sum(pair["totals"]["fail"] for pair in whole)
    assert report["not_checked"] == list(dict.fromkeys(why for pair in whole for why in pair["not_checked"]))


def test_a_source_and_several_destinations_is_an_evacuation(tmp_path, facts_dir):
    done, report = check(tmp_path, "kvm1", "kvm2", "kvm3", "--facts-dir", str(facts_dir))

    assert pairs(report) == [("kvm1", "kvm2"), ("kvm1", "kvm3")]
    assert [pair["exit_status"] for pair in report["pairs"]] == [0, 1] and done.returncode == 1


def test_to_each_other_names_both_directions_of_the_hosts_given(tmp_path, facts_dir):
    done, report = check(tmp_path, "--to-each-other", "kvm1", "kvm2", "--facts-dir", str(facts_dir))

    assert pairs(report) == [("kvm1", "kvm2"), ("kvm2", "kvm1")]
    assert [pair["exit_status"] for pair in report["pairs"]] == [0, 3] and done.returncode == 3  # kvm2 lacks look-ups


def test_a_group_of_the_inventory_is_checked_alone_and_an_unknown_one_is_one_line(tmp_path, facts_dir):
    inventory = tmp_path / "inventory.toml"
    inventory.write_text('[groups]\nrack1 = ["kvm2", "kvm3"]\n', encoding="utf-8")

    _, report = check(tmp_path, "--all", "--group", "rack1", "-i", str(inventory), "--facts-dir", str(facts_dir))
    unknown, _ = check(tmp_path, "--all", "--group", "rack9", "-i", str(inventory), "--facts-dir", str(facts_dir))

    assert pairs(report) == [("kvm2", "kvm3"), ("kvm3", "kvm2")]
    assert unknown.returncode == 2
    assert unknown.stderr == f"migdoctor: --group rack9: no such group in {inventory} (groups: rack1)\n"


def test_a_bad_facts_file_takes_out_only_its_hosts_pairs(tmp_path, facts_dir):
    (facts_dir / "kvm4.json").write_text('{"identity": 1}', encoding="utf-8")

    done, report = check(tmp_path, "--facts-dir", str(facts_dir), "--all")

    validate_report(report)
    assert len(report["pairs"]) == 12 and done.returncode == 1  # kvm1 -> kvm3 failed: it outranks "could not run"
    lost = [pair for pair in report["pairs"] if "kvm4" in (pair["source"], pair["destination"])]
    judged = [pair for pair in report["pairs"] if pair not in lost]
    assert len(lost) == 6 and {pair["exit_status"] for pair in lost} == {2}
    assert all(pair["findings"] == [] for pair in lost) and all(pair["findings"] for pair in judged)
    assert lost[0]["not_checked"][0].startswith(f"{facts_dir / 'kvm4.json'}: not a migdoctor facts record")
    assert report["matrix"]["kvm1"]["kvm4"]["verdict"] == "not checked"
    assert report["hosts"]["kvm4"]["reached"] is False
    assert done.stderr.splitlines()[-1].startswith(
        f"migdoctor: {facts_dir / 'kvm4.json'}: not a migdoctor facts record"
    )


def test_saved_facts_without_the_peers_look_ups_say_so_and_the_checks_needing_them_skip(tmp_path, facts_dir):
    _, report = check(tmp_path, "kvm3", "kvm1", "--facts-dir", str(facts_dir))

    (pair,) = report["pairs"]
    assert any(
        line.startswith("kvm3: its saved facts lack look-ups aimed at its peers") for line in pair["not_checked"]
    )
    skipped = {f["id"]: f["summary"] for f in pair["findings"] if f["status"] == "skip"}
    assert skipped["dns.migration-host-resolves"].endswith("(collect with --resolve hosta-fast.lab.test)")


def test_a_file_collected_long_before_the_others_is_named_on_its_pairs(tmp_path, facts_dir):
    """A HOST.json left from an earlier collection (a playbook run with another --limit, a host
    since changed) is judged, and every pair of its host says how old it is."""
    path = facts_dir / "kvm3.json"
    record = json.loads(path.read_text())
    record["collected_at"] = "2026-11-20T09:00:00+00:00"
    path.write_text(json.dumps(record))
    newest = max(json.loads(other.read_text())["collected_at"] for other in facts_dir.glob("*.json"))

    _, report = check(tmp_path, "--facts-dir", str(facts_dir), "--all")

    line = (
        f"kvm3: its saved facts were collected 2026-11-20T09:00:00+00:00, 6 days before the newest ({newest}): "
        "what changed on it since is not judged (save them again: `migdoctor facts kvm3 --json`, or the playbook)"
    )
    for pair in report["pairs"]:
        assert (line in pair["not_checked"]) == ("kvm3" in (pair["source"], pair["destination"])), pair["source"]
    assert line in report["not_checked"]


def test_text_shows_the_matrix_first_then_each_cause_once_naming_its_pairs(tmp_path, facts_dir):
    done, _ = check(tmp_path, "--facts-dir", str(facts_dir), "--all", "--format", "text")

    lines = done.stdout.splitlines()
    assert lines[0].startswith("matrix (rows: source, columns: destination")
    assert lines[1].split() == ["kvm1", "kvm2", "kvm3"]
    assert lines[2].split() == ["kvm1", "-", "pass", "a-fast", "FAIL"]
    port_range = [line for line in lines if "config.migration-port-range" in line]
    assert port_range == [
        "FAIL  config.migration-port-range on 2 pairs (kvm1, kvm2 -> kvm3): range 49152-49215 overlaps the "
        "ephemeral ports 32768-60999: any outgoing connection may hold a migration port"
    ]
    assert lines[-1].startswith("6 pairs: 1 pass, 2 fail, 3 incomplete; checks: ")


def test_a_schema_1_report_still_validates_and_renders(tmp_path):
    old = str(Path(__file__).parents[2] / "data" / "facts" / "seed-report.json")
    run = [sys.executable, "-m", "migdoctor", "report"]

    valid = subprocess.run([*run, "validate", old], capture_output=True, text=True, timeout=60)
    html = subprocess.run([*run, "render", old, "--format", "html"], capture_output=True, text=True, timeout=60)

    assert valid.stdout.strip().endswith("valid migdoctor report (schema 1)")
    assert html.returncode == 0 and "hosta &rarr; hostb" in html.stdout


def test_every_format_of_a_fleet_report_leads_with_the_matrix(tmp_path, facts_dir):
    done, _ = check(tmp_path, "--facts-dir", str(facts_dir), "--all", "--output-stem", str(tmp_path / "fleet"))

    html = (tmp_path / "fleet.html").read_text()
    markdown = (tmp_path / "fleet.md").read_text()
    junit = (tmp_path / "fleet.xml").read_text()
    assert html.index('id="matrix"') < html.index('id="causes"') < html.index("Migration path check: kvm1 &rarr; kvm2")
    assert '<td class="fail">fail</td>' in html and "config.migration-port-range</code> on 2 pair(s)" in html
    assert markdown.startswith("# Migration path check: 6 pairs\n")
    assert "| kvm1 |  | pass a-fast | FAIL |" in markdown
    assert junit.count("<testsuite ") == 6 and 'name="migdoctor kvm3 -&gt; kvm2"' in junit


def test_a_host_label_from_a_file_name_is_printed_escaped(tmp_path, facts_dir):
    (facts_dir / "kvm2.json").rename(facts_dir / "kvm\x1b[2J.json")

    done, report = check(tmp_path, "--facts-dir", str(facts_dir), "--all", "--format", "text")

    assert "kvm\x1b[2J" in report["hosts"]  # the report keeps the label as it is
    assert "\x1b" not in done.stdout and "kvm\\x1b[2J" in done.stdout.splitlines()[1]
