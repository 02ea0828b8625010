"""The check catalogue: the README's check table is the registry's own Markdown (so the
documentation never drifts from the code), and `migdoctor checks` shows each check's
description and rationale in text and JSON."""

import dataclasses
import json
import re
import subprocess
import sys
from pathlib import Path

from migdoctor.checkapi import Check, passed
from migdoctor.engine import builtin_checks
from migdoctor.report.catalog import render_details, render_json, render_markdown

README = Path(__file__).parents[3] / "README.md"
GENERATED = re.compile(
    r"<!-- BEGIN generated: migdoctor checks --format markdown -->\n(.*?)<!-- END generated -->", re.S
)
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


def test_the_readme_check_table_is_the_registrys_markdown() -> None:
    found = GENERATED.search(README.read_text())
    assert found, "README.md lost its generated check table markers"
    assert found.group(1) == render_markdown(builtin_checks()), (
        "README.md's check table differs from the checks' metadata: paste `migdoctor checks --format markdown`"
    )


def test_markdown_has_one_table_per_area_with_every_check_once() -> None:
    checks = builtin_checks()
    markdown = render_markdown(checks)

    rows = [line for line in markdown.splitlines() if line.startswith("| `")]
    assert [row.split("`")[1] for row in rows] == [check.id for check in checks]
    assert markdown.count("| id | severity | fails when | why it matters | fix |") == len({c.area for c in checks})
    assert (
        "**dns**: How the name the destination advertises for the migration stream resolves on the source." in markdown
    )


def test_markdown_keeps_a_drop_ins_pipe_inside_its_cell_and_marks_a_missing_rationale() -> None:
    (row,) = [line for line in render_markdown([SITE]).splitlines() if line.startswith("| `")]
    assert row == "| `site.pipes` | low | the a\\|b column is not split | - | - |"


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
