"""The compact report of a run of several pairs: what its pairs share written once, each pair as
indexes into it; read whole, each pair is what the one-pair run of its hosts writes, and every
reader (validate, render, diff) takes it as it takes the whole form."""

import copy
import json
from functools import partial
from pathlib import Path
from typing import Any

import cli_runs
import pytest

from migdoctor.report import causes as causes_module
from migdoctor.report import html as html_module
from migdoctor.report import markdown as markdown_module
from migdoctor.report.compact import PASSED, Pieces, Tables, expanded_pairs, split_pair
from migdoctor.report.document import ReportError, validate_report
from migdoctor.report.writers import Format, RenderOptions, writer

NETWORK = ("--migration-network", "198.51.100.0/24")


migdoctor = partial(cli_runs.migdoctor, None, timeout=120)


def checked(tmp_path: Path, name: str, facts_dir: Path, *hosts: str) -> dict[str, Any]:
    output = tmp_path / f"{name}.json"
    selection = hosts or ("--all",)
    migdoctor("check", *selection, "--facts-dir", str(facts_dir), *NETWORK, "--output", str(output))
    report: dict[str, Any] = json.loads(output.read_text())
    return report


@pytest.fixture
def fleet(tmp_path: Path, facts_dir: Path) -> dict[str, Any]:
    return checked(tmp_path, "fleet", facts_dir)


def untimed(pair: dict[str, Any]) -> dict[str, Any]:
    return {**pair, "findings": [{k: v for k, v in f.items() if k != "duration_s"} for f in pair["findings"]]}


def whole(report: dict[str, Any]) -> dict[str, Any]:
    """REPORT in the whole form: every pair written out, no shared tables."""
    return {**{k: v for k, v in report.items() if k != "shared"}, "pairs": list(expanded_pairs(report))}


def compact(pairs: list[dict[str, Any]], worded: bool = True) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """PAIRS as a run of several pairs writes them, and the shared tables."""
    tables, pieces = Tables(), Pieces()
    items = [json.loads(tables.interned(*split_pair(pair, worded, pieces))) for pair in pairs]
    return items, tables.shared()


def test_a_run_of_several_pairs_writes_each_as_indexes_and_each_reads_back_as_its_one_pair_run(
    tmp_path, facts_dir, fleet
):
    assert set(fleet["shared"]) == {"findings", "intents", "path_sources", "path_destinations", "links"}
    assert all(isinstance(index, int) for pair in fleet["pairs"] for index in pair["findings"])
    assert len(fleet["shared"]["findings"]) < sum(len(pair["findings"]) for pair in fleet["pairs"])
    read = {(pair["source"], pair["destination"]): pair for pair in expanded_pairs(fleet)}
    for src, dst in (("kvm1", "kvm2"), ("kvm1", "kvm3"), ("kvm3", "kvm1")):  # pass, fail, incomplete
        one = checked(tmp_path, f"{src}-{dst}", facts_dir, src, dst)
        assert "shared" not in one  # a one-pair report is written whole
        (alone,) = one["pairs"]
        assert untimed(read[(src, dst)]) == untimed(alone)


def test_a_fleet_report_writes_each_pair_and_each_source_of_its_matrix_on_one_line(tmp_path, facts_dir, fleet):
    lines = (tmp_path / "fleet.json").read_text().splitlines()

    assert sum(line.startswith('    "kvm1":{"kvm2":{"verdict":"pass"') for line in lines) == 1
    assert sum(line.startswith('    {"source":"kvm') for line in lines) == 6


def test_compact_pairs_read_back_whole_to_the_microsecond(tmp_path, facts_dir):
    pairs = [
        checked(tmp_path, f"{s}-{d}", facts_dir, s, d)["pairs"][0] for s, d in (("kvm1", "kvm2"), ("kvm2", "kvm3"))
    ]
    items, shared = compact(pairs)

    assert list(expanded_pairs({"pairs": items, "shared": shared})) == pairs
    assert items[0]["findings"][:3] == [0, 1, 2] and "totals" not in items[0] and "text" not in items[0]["path"]


def test_past_the_worded_pairs_a_pass_keeps_its_status_not_its_wording(fleet):
    pairs = list(expanded_pairs(fleet))
    items, shared = compact(pairs, worded=False)

    for before, after in zip(pairs, expanded_pairs({"pairs": items, "shared": shared}), strict=True):
        for was, now in zip(before["findings"], after["findings"], strict=True):
            if was["status"] == "pass":
                assert now == {**was, "summary": PASSED, "evidence": []}
            else:
                assert now == was  # what did not pass keeps its wording and evidence
        assert {**after, "findings": []} == {**before, "findings": []}
    assert len(shared["findings"]) < len(fleet["shared"]["findings"])


@pytest.mark.parametrize("name", list(Format))
def test_a_compact_report_renders_as_its_whole_form(fleet, name):
    validate_report(fleet)
    validate_report(whole(fleet))

    assert writer(name).render(fleet, RenderOptions()) == writer(name).render(whole(fleet), RenderOptions()) or (
        name is Format.json  # the JSON writer writes what it is given: the compact form stays compact
    )


def test_validate_and_diff_read_a_compact_report(tmp_path, fleet):
    compact_file, whole_file = tmp_path / "compact.json", tmp_path / "whole.json"
    compact_file.write_text(json.dumps(fleet))
    whole_file.write_text(json.dumps(whole(fleet)))

    valid = migdoctor("report", "validate", str(compact_file))
    both = migdoctor("report", "diff", str(whole_file), str(compact_file))
    text = migdoctor("report", "render", str(compact_file))

    assert valid.returncode == 0, valid.stderr
    assert both.returncode == 0 and both.stdout.splitlines()[-2:] == ["6 pairs unchanged", "no worse than before"]
    assert text.returncode == 0 and text.stdout.splitlines()[-1].startswith("6 pairs: 1 pass, 2 fail, 3 incomplete; ")


@pytest.mark.parametrize(
    ("broken", "problem"),
    [
        (lambda r: r["pairs"][1]["findings"].__setitem__(0, 999), "pair kvm1 -> kvm3: refers to findings 999, but shared.findings has "),
        (lambda r: r["pairs"][0]["path"].__setitem__("source", 40), "pair kvm1 -> kvm2: refers to path_sources 40, but shared.path_sources has "),
        (lambda r: r["pairs"][0]["durations_us"].pop(), "pair kvm1 -> kvm2: 27 findings but 26 durations_us"),
        (lambda r: r["pairs"][0].__setitem__("intent", -1), "does not match its schema: pairs/0/intent: -1 is less than the minimum of 0"),
        (lambda r: r["shared"]["findings"][0].__setitem__("duration_s", 0.1), "does not match its schema: shared/findings/0"),
        (lambda r: r["pairs"][0].__setitem__("totals", {}), "does not match its schema: pairs/0"),
    ],
)  # fmt: skip
def test_a_broken_reference_is_rejected_naming_its_pair(tmp_path, fleet, broken, problem):
    report = copy.deepcopy(fleet)
    broken(report)
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(report))

    with pytest.raises(ReportError, match="^report (does not match its schema|contradicts itself): ") as raised:
        validate_report(report)
    done = migdoctor("report", "validate", str(path))

    assert problem in str(raised.value)
    assert done.returncode == 1 and len(done.stderr.strip().splitlines()) == 1 and problem in done.stderr


def test_a_large_fleets_html_and_markdown_show_the_matrix_by_source_then_causes_then_only_pairs_not_passing(
    fleet, monkeypatch
):
    monkeypatch.setattr(causes_module, "SECTIONS_MOST", 2)
    monkeypatch.setattr(causes_module, "GRID_MOST", 2)
    monkeypatch.setattr(html_module, "GRID_MOST", 2)
    monkeypatch.setattr(markdown_module, "GRID_MOST", 2)
    page = writer(Format.html).render(fleet, RenderOptions())
    markdown = writer(Format.markdown).render(fleet, RenderOptions())

    left_out = "6 pairs: shown in full are 2 that did not pass; left out are 1 that passed and 3 more that did not"
    assert '<li class="fail">kvm1 -&gt; 2 destinations: 1 pass, 1 fail (not passing: kvm3)</li>' in page
    assert page.index('id="matrix"') < page.index('id="causes"') < page.index(left_out)
    assert page.count('<section class="pair">') == 2 and "kvm1 &rarr; kvm2" not in page  # kvm1 -> kvm2 passed
    assert "- kvm1 -&gt; 2 destinations: 1 pass, 1 fail (not passing: kvm3)" in markdown.splitlines()
    assert left_out in markdown and markdown.count("## Hosts") == 2
