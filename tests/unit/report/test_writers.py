"""The text and Markdown writers over the report judged from the seed capture: the stream takes
hosta a-lan -> hostb b-lan, dns.migration-host-address and config.migration-port-range fail."""

import pytest
from rich.console import Console

from migdoctor.report.markdown import render_markdown
from migdoctor.report.text import render_text
from migdoctor.run.collect import Collected

SEED_PATH = "hosta a-lan 192.0.2.1 (100 Mb/s) -> hostb 192.0.2.2:49152-49215 (hostb.lab.test)"
MIGRATION_HOST_FIX = 'hostb:/etc/libvirt/qemu.conf: migration_host = "hostb-fast.lab.test"'


@pytest.fixture
def seed(judge_report):
    return judge_report("seed")


def text_of(report, quiet=False):
    console = Console(record=True, width=200, color_system=None)
    render_text(report, console, quiet=quiet)
    return console.export_text().splitlines()


def test_text_starts_with_the_path_and_its_verdict(seed):
    lines = text_of(seed)

    assert lines[0] == f"path: {SEED_PATH}"
    assert (
        lines[1]
        == "      NOT on the migration network 198.51.100.0/24 (from inventory /run/migdoctor-lab/inventory.toml)"
    )


def test_text_gives_one_line_per_check_and_details_under_what_did_not_pass(seed):
    lines = text_of(seed)

    for finding in seed["pairs"][0]["findings"]:
        assert any(line.startswith(f"{finding['status'].upper():5} {finding['id']}: ") for line in lines), finding["id"]
    failing = lines.index(next(line for line in lines if line.startswith("FAIL  dns.migration-host-address: ")))
    details = lines[failing + 1 : failing + 5]
    assert "        hosta: getaddrinfo(hostb.lab.test) = 192.0.2.2 (expected 198.51.100.2)" in details
    assert f"        fix: {MIGRATION_HOST_FIX}" in details
    totals = seed["totals"]
    assert lines[-1].startswith(
        f"{len(seed['pairs'][0]['findings'])} checks: {totals['pass']} pass, {totals['warn']} warn, {totals['fail']} fail"
    )


def test_quiet_text_leaves_out_what_passed(seed):
    lines = text_of(seed, quiet=True)

    assert lines[0] == f"path: {SEED_PATH}"
    assert not [line for line in lines if line.startswith("PASS")]
    assert [line.split(":")[0] for line in lines if line.startswith("FAIL")] == [
        "FAIL  dns.migration-host-address",
        "FAIL  config.migration-port-range",
    ]


def test_text_shows_square_brackets_as_written(seed):
    """Summaries and evidence quote lists and IPv6 listeners ([::]); rich must not eat them as markup."""
    seed["pairs"][0]["findings"][0].update(
        status="fail", summary="listens on [::]:16509 and [bold]not[/bold] elsewhere"
    )

    assert "FAIL  dns.migration-host-resolves: listens on [::]:16509 and [bold]not[/bold] elsewhere" in text_of(seed)


def test_text_of_an_unreachable_host_says_so(judge_report):
    report = judge_report(dst=Collected(None, "hostb: ssh to root@hostb failed: Connection refused"))

    lines = text_of(report)

    assert lines[0] == "path: unknown"
    assert "not checked: hostb: ssh to root@hostb failed: Connection refused" in lines


def test_markdown_has_the_path_the_findings_table_and_the_remediation(seed):
    markdown = render_markdown(seed)

    assert markdown.startswith("# Migration path check: hosta -> hostb\n")
    assert f"- Predicted path: `{SEED_PATH}`" in markdown
    assert "- On the migration network: **NO**" in markdown
    assert "### FAIL `dns.migration-host-address`: " in markdown
    assert "| hosta | getaddrinfo(hostb.lab.test) | `192.0.2.2` | `198.51.100.2` |" in markdown
    assert f"Remediation: `{MIGRATION_HOST_FIX}`" in markdown
    assert markdown.split("\n")[2].startswith("**FAILED**: 2 fail, 0 error, 1 warn, ")


def test_markdown_keeps_a_pipe_in_a_summary_inside_its_cell(seed):
    seed["pairs"][0]["findings"][0]["summary"] = "rule tcp flags & (fin | syn) == syn not understood"

    row = next(line for line in render_markdown(seed).splitlines() if "`dns.migration-host-resolves`" in line)

    assert row == "| PASS | `dns.migration-host-resolves` | rule tcp flags &amp; (fin \\| syn) == syn not understood |"


def test_markdown_of_a_passing_report_has_no_findings_to_act_on(judge_report):
    markdown = render_markdown(judge_report("healthy"))

    assert "- On the migration network: **yes**" in markdown
    assert "## Findings\n" not in markdown and "## Fix lines" not in markdown
    assert markdown.split("\n")[2] == "**PASSED**: 0 fail, 0 error, 0 warn, 12 skip, 15 pass (exit status 0)"
