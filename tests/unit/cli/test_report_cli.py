"""`check --format/--output/--output-stem`, `report render` and `report diff` as an admin and a
CI job run them, on saved lab facts and the committed example reports."""

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from test_cli import HEALTHY, SEED, migdoctor, offline_check

from migdoctor.report.writers import Format, plan_outputs

EXAMPLES = Path(__file__).resolve().parents[3] / "reports"
SEED_EXAMPLE, FIXED_EXAMPLE = str(EXAMPLES / "example-seed.json"), str(EXAMPLES / "example-seed-fixed.json")
DEFAULT = Path("reports/default.json")


def rate(example: str) -> float:
    """The outbound leg's rate the example's test migration measured."""
    return json.loads(Path(example).read_text())["pairs"][0]["migration_trial"]["legs"][0]["rate_mbps"]


def test_output_stem_writes_html_markdown_and_junit_beside_the_json_and_shows_text(tmp_path: Path) -> None:
    stem = tmp_path / "kvm7-maintenance"

    done = offline_check(SEED, tmp_path / "kvm7.json", "--output-stem", str(stem))

    assert done.returncode == 1, done.stderr
    assert done.stdout.startswith("path: hosta a-lan ")
    written = [tmp_path / "kvm7.json"] + [tmp_path / f"kvm7-maintenance{suffix}" for suffix in (".html", ".md", ".xml")]
    assert sorted(tmp_path.iterdir()) == sorted(written)  # an explicit --output wins over the stem
    assert sorted(done.stderr.splitlines()) == sorted(f"report: {path}" for path in written)
    report = json.loads((tmp_path / "kvm7.json").read_text())
    assert ET.parse(tmp_path / "kvm7-maintenance.xml").getroot().get("failures") == str(report["totals"]["fail"])
    assert (tmp_path / "kvm7-maintenance.md").read_text().startswith("# Migration path check: hosta -> hostb")


def test_each_output_takes_its_format_from_its_suffix_and_junit_goes_to_stdout(tmp_path: Path) -> None:
    done = offline_check(
        HEALTHY, tmp_path / "r.json", "--output", str(tmp_path / "r.html"), "--format", "junit", "--format", "html"
    )

    assert done.returncode == 0, done.stderr
    assert ET.fromstring(done.stdout).get("failures") == "0"
    assert (tmp_path / "r.html").read_text().startswith("<!DOCTYPE html>")
    assert json.loads((tmp_path / "r.json").read_text())["exit_status"] == 0


def test_two_formats_for_stdout_is_a_one_line_error_before_any_work(tmp_path: Path) -> None:
    done = offline_check(SEED, tmp_path / "r.json", "--format", "html", "--format", "junit")

    assert done.returncode == 2
    assert done.stderr == (
        "migdoctor: --format html and junit would all go to stdout: "
        "give --output FILE or --output-stem for all but one\n"
    )
    assert not (tmp_path / "r.json").exists()


def test_plan_keeps_json_always_and_one_file_per_format() -> None:
    assert plan_outputs([], [], None, DEFAULT).files == {Format.json: DEFAULT}
    assert plan_outputs([Format.json], [Path("a.json")], None, DEFAULT).stdout is Format.json  # as before
    stem = plan_outputs([Format.html], [Path("x.md")], "out/kvm7", DEFAULT)
    assert stem.files == {
        Format.markdown: Path("x.md"),
        Format.json: Path("out/kvm7.json"),
        Format.html: Path("out/kvm7.html"),
    }
    assert stem.stdout is None
    with pytest.raises(ValueError, match=r"--output a.xml and b.XML: both are junit; one file per format"):
        plan_outputs([], [Path("a.xml"), Path("b.XML")], None, DEFAULT)


@pytest.mark.parametrize("output_format", list(Format))
def test_render_makes_every_format_from_the_json_alone(tmp_path: Path, output_format: Format) -> None:
    shown = migdoctor("report", "render", SEED_EXAMPLE, "--format", output_format)
    written = migdoctor("report", "render", SEED_EXAMPLE, "--format", output_format, "--output", str(tmp_path / "r"))

    assert shown.returncode == written.returncode == 0, shown.stderr + written.stderr
    assert shown.stdout == (tmp_path / "r").read_text() != ""
    assert written.stdout == ""


def test_render_of_something_not_a_report_names_the_file(tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('{"findings": []}')

    done = migdoctor("report", "render", str(broken), "--format", "html")

    assert done.returncode == 2
    assert done.stderr.startswith(f"migdoctor: {broken}: report does not match its schema: ")
    assert done.stdout == ""


def test_diff_after_setting_migration_host_is_no_worse_and_shows_the_new_link() -> None:
    done = migdoctor("report", "diff", SEED_EXAMPLE, FIXED_EXAMPLE)

    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    before, after = (rate(path) for path in (SEED_EXAMPLE, FIXED_EXAMPLE))
    assert 80 < before < 100 and 800 < after < 1000  # the LAN's 100 Mb/s, the fast link's 1 Gb/s
    assert f"* test migration: a-lan -> b-lan at {before} Mb/s" in lines
    assert f"    now: a-fast -> b-fast at {after} Mb/s" in lines
    assert "IMPROVED  dns.migration-host-address: fail -> pass" in lines
    assert not [line for line in lines if "migration.test-migration" in line]  # fails still, on its way back
    assert lines[-1] == "no worse than before"


def test_diff_the_other_way_is_a_regression_in_every_form() -> None:
    text = migdoctor("report", "diff", FIXED_EXAMPLE, SEED_EXAMPLE)
    markdown = migdoctor("report", "diff", FIXED_EXAMPLE, SEED_EXAMPLE, "--format", "markdown")
    as_json = migdoctor("report", "diff", FIXED_EXAMPLE, SEED_EXAMPLE, "--format", "json")

    assert text.returncode == markdown.returncode == as_json.returncode == 1
    assert "REGRESSED dns.migration-host-address: pass -> fail" in text.stdout
    assert "| regressed | `dns.migration-host-address` | pass | fail |" in markdown.stdout
    diff = json.loads(as_json.stdout)
    (pair,) = diff["pairs"]
    assert diff["regressed"] is True
    assert pair["test_migration"]["new"] == {
        "source_link": "a-lan",
        "destination_link": "b-lan",
        "on_migration_network": False,
        "rate_mbps": rate(SEED_EXAMPLE),
    }
    assert {f["host"] for f in pair["facts_changed"]} == {"hosta", "hostb"}


def test_diff_of_different_pairs_refuses(tmp_path: Path) -> None:
    other = json.loads(Path(SEED_EXAMPLE).read_text())
    other["hosts"]["kvm9"] = {**other["hosts"].pop("hostb"), "label": "kvm9"}
    other["matrix"]["hosta"] = {"kvm9": other["matrix"]["hosta"].pop("hostb")}
    other["pairs"][0]["destination"] = "kvm9"
    (tmp_path / "other.json").write_text(json.dumps(other))

    done = migdoctor("report", "diff", SEED_EXAMPLE, str(tmp_path / "other.json"))

    assert done.returncode == 2
    assert done.stderr == "migdoctor: reports of different pairs: hosta -> hostb and hosta -> kvm9\n"


@pytest.mark.parametrize("command", [["validate"], ["render"], ["diff", SEED_EXAMPLE]])
def test_a_report_nested_a_thousand_deep_is_one_line(tmp_path: Path, command: list[str]) -> None:
    report = json.loads(Path(SEED_EXAMPLE).read_text())
    deep = tmp_path / "deep.json"
    deep.write_text(json.dumps(report)[:-1] + ', "extra": ' + "[" * 1000 + "]" * 1000 + "}")

    done = migdoctor("report", *command, str(deep))

    assert done.returncode == (1 if command == ["validate"] else 2)
    assert done.stderr == f"migdoctor: {deep}: nested deeper than 64 levels, not a migdoctor file\n"


def test_a_pair_naming_a_host_the_report_lacks_is_one_line(tmp_path: Path) -> None:
    report = json.loads(Path(SEED_EXAMPLE).read_text())
    report["pairs"][0]["destination"] = "kvm9"
    (tmp_path / "r.json").write_text(json.dumps(report))

    done = migdoctor("report", "render", str(tmp_path / "r.json"))

    assert done.returncode == 2
    assert (
        done.stderr
        == f"migdoctor: {tmp_path / 'r.json'}: report contradicts itself: pair hosta -> kvm9: kvm9 is not one of its hosts\n"
    )
