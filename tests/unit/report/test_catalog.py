"""The check catalogue: docs/checks.md is the registry's own Markdown (so the documentation
never drifts from the code), and `migdoctor checks` shows each check's description and
rationale in text and JSON."""

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

from migdoctor.checkapi import Check, passed
from migdoctor.engine import builtin_checks
from migdoctor.report.catalog import render_details, render_json, render_markdown

REFERENCE = Path(__file__).parents[3] / "docs" / "checks.md"
SITE = Check(
    "site.pipes",
    "A drop-in with a pipe in its text",
    "low",
    (),
    lambda pair: passed("fine"),
    "file /etc/migdoctor/site.py",
    "the a|b column is not split",
)


def migdoctor(*args: str) -> subprocess.CompletedProcess[str]:
    env = {"COLUMNS": "100", "PATH": "/usr/bin:/bin", "MIGDOCTOR_INVENTORY": "/dev/null"}
    return subprocess.run([sys.executable, "-m", "migdoctor", *args], capture_output=True, text=True, env=env)


def test_the_checks_reference_is_the_registrys_markdown() -> None:
    assert REFERENCE.read_text() == render_markdown(builtin_checks()), (
        "docs/checks.md differs from the checks' metadata: run `migdoctor checks --format markdown > docs/checks.md`"
    )


def test_markdown_has_one_section_per_area_and_per_check_in_registry_order() -> None:
    checks = builtin_checks()
    markdown = render_markdown(checks)

    assert [line[4:] for line in markdown.splitlines() if line.startswith("### ")] == [check.id for check in checks]
    areas = list(dict.fromkeys(check.area for check in checks))
    assert [line[3:] for line in markdown.splitlines() if line.startswith("## ")] == areas
    assert markdown.startswith(f"# The checks\n\n{len(checks)} checks in {len(areas)} areas")
    assert "\nHow the name the destination advertises for the migration stream resolves on the source.\n" in markdown


def test_markdown_keeps_a_drop_ins_pipe_in_its_text_and_marks_what_it_left_out() -> None:
    markdown = render_markdown([SITE])
    assert "| site | `site.pipes` |" in markdown
    assert "**A drop-in with a pipe in its text** (low, file /etc/migdoctor/site.py)" in markdown
    assert (
        "- **Fails when**: the a\\|b column is not split\n- **Why it matters**: -\n- **Fix**: -\n- **Reads**: -\n"
        in (markdown)
    )


def test_details_show_what_a_check_verifies_and_why() -> None:
    text = render_details([SITE], width=60)
    assert text == (
        "site.pipes (low, file /etc/migdoctor/site.py)\n"
        "  A drop-in with a pipe in its text\n"
        "  fails when: the a|b column is not split\n"
        "  why: (not given)\n"
        "  fix: (not given)\n"
    )


def test_details_show_a_drop_ins_file_name_as_one_printable_line() -> None:
    site = dataclasses.replace(SITE, origin="file /srv/checks/\x1b[2J\n.py")
    assert render_details([site], width=60).splitlines()[0] == "site.pipes (low, file /srv/checks/\\x1b[2J\\n.py)"


def test_json_holds_every_field_of_the_metadata() -> None:
    (record,) = json.loads(render_json([SITE]))["checks"]
    assert record == {
        "id": "site.pipes",
        "area": "site",
        "title": "A drop-in with a pipe in its text",
        "severity": "low",
        "origin": "file /etc/migdoctor/site.py",
        "needs": [],
        "description": "the a|b column is not split",
        "rationale": "",
        "fix": "",
    }


def test_checks_command_shows_the_named_checks_in_full() -> None:
    result = migdoctor("checks", "link.mtu", "xen")

    assert result.returncode == 0, result.stderr
    assert [line for line in result.stdout.splitlines() if not line.startswith(" ")] == [
        "link.mtu (medium, built-in)",
        "",
        "xen.relocation-server (high, built-in)",
        "",
        "xen.hosts-allow (high, built-in)",
    ]
    assert "  why: An MTU mismatch gives no clean error" in result.stdout


def test_checks_command_prints_markdown_and_json() -> None:
    assert migdoctor("checks", "--format", "markdown").stdout == render_markdown(builtin_checks())
    listed = json.loads(migdoctor("checks", "dns", "--format", "json").stdout)["checks"]
    assert [check["id"] for check in listed] == [c.id for c in builtin_checks() if c.area == "dns"]
    assert all(check["rationale"] for check in listed)


def test_checks_command_refuses_a_name_that_is_no_check() -> None:
    result = migdoctor("checks", "dns.nope")
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == "migdoctor: dns.nope: no check has that id or area\n"
