"""What a report must be for a change board to sign it: values written as people write them,
sizes in human units, only real fixes among the fix lines, accepted risks with their reasons and
apart from the failures, who ran it and for which change, hosts before findings, and a chart and
print layout that do not mislead."""

import html
import json
import re
import shlex
import socket
from pathlib import Path

import pytest
from rendering import rendered
from rich.console import Console

from migdoctor.report.causes import causes
from migdoctor.report.document import validate_report
from migdoctor.report.html import fix_lines, throughput_charts
from migdoctor.report.text import render_text
from migdoctor.report.values import pointed, shown
from migdoctor.report.writers import Format, format_named, pairs_of
from migdoctor.run.context import accepted_risks, run_by
from migdoctor.units import human_bytes

ROOT = Path(__file__).resolve().parents[3]
POINTER = "see dns.migration-host-address and route.egress-interface"
REASON = "migration_host set in CHG-7, change window Friday"


def example(name: str) -> dict:
    return json.loads((ROOT / "reports" / f"example-{name}.json").read_text(encoding="utf-8"))


@pytest.fixture
def accepted(judge_report) -> dict:
    """The seed judged with dns.migration-host-address accepted as a risk, for a reason, by someone."""
    report = judge_report("seed", ignore=("dns.migration-host-address",))
    report["accepted_risks"] = [{"id": "dns.migration-host-address", "reason": REASON}]
    report["run_by"] = {
        "user": "alice",
        "host": "jump1",
        "command": "migdoctor check hosta hostb",
        "change_ref": "CHG-7",
    }
    validate_report(report)
    return report


def test_values_are_written_as_people_write_them():
    assert shown(["198.51.100.2"]) == "198.51.100.2"
    assert shown(["a-fast", "a-fast2"]) == "a-fast, a-fast2"
    assert shown(None) == "-" and shown([]) == "-"
    assert shown(True) == "yes" and shown(1500) == "1500"


@pytest.mark.parametrize("name", [Format.text, Format.markdown, Format.html, Format.junit])
def test_no_python_value_leaks_into_a_format(name):
    page = html.unescape(rendered(example("seed"), name))  # the HTML and XML escape quotes

    assert not re.search(r"\['|'\]|\bNone\b", page), re.search(r".{40}(\['|'\]|\bNone\b).{40}", page)


def test_sizes_in_human_units():
    assert human_bytes(4194304) == "4 MiB"
    assert human_bytes(84362570) == "80.5 MiB"
    assert human_bytes(512) == "512 bytes"
    assert human_bytes(3 * 2**30) == "3 GiB"


def test_a_pointer_to_other_findings_is_no_fix_line():
    pair = pairs_of(example("seed"))[0]
    assert POINTER in [f["remediation"] for f in pair["findings"]]

    assert POINTER not in fix_lines(pair)
    page = rendered(example("seed"), Format.html)
    assert POINTER not in page.split('<pre id="fixes">')[1].split("</pre>")[0]
    assert f'<div class="meta">{POINTER} (passed)</div>' in page  # still said, under its finding
    assert f"fix: {POINTER}" not in rendered(example("seed"), Format.text)
    assert f"Remediation: `{POINTER}`" not in rendered(example("seed"), Format.markdown)


def test_a_pointer_marks_the_checks_it_names_that_passed():
    findings = [
        {"id": "dns.migration-host-address", "status": "fail"},
        {"id": "route.egress-interface", "status": "pass"},
    ]

    assert pointed(POINTER, findings) == f"{POINTER} (passed)"
    assert pointed("see route.egress-interface and dns.migration-host-address", findings) == (
        "see route.egress-interface (passed) and dns.migration-host-address"
    )
    assert f"        {POINTER} (passed)" in rendered(example("seed"), Format.text).splitlines()


def test_a_fleet_cause_lists_no_pointer_as_a_fix():
    fleet = json.loads((ROOT / "tests" / "data" / "fleet-report.json").read_text(encoding="utf-8"))
    for pair in fleet["pairs"]:
        pair["findings"][0].update(status="fail", remediation="see the firewall.* findings")

    assert all(not fix.startswith("see ") for cause in causes(pairs_of(fleet)) for fix in cause.fixes)


def test_ignore_takes_reasons_with_commas_and_lists_of_ids():
    assert accepted_risks(["dns.migration-host-address=NAT, agreed in CHG-7", "link,tls.chain"]) == {
        "dns.migration-host-address": "NAT, agreed in CHG-7",
        "link": None,
        "tls.chain": None,
    }
    assert accepted_risks(["link", "link=slow on purpose"]) == {"link": "slow on purpose"}
    with pytest.raises(ValueError, match="names no check before '='"):
        accepted_risks(["=because"])


def test_run_by_names_user_host_and_the_command_line_as_a_shell_takes_it():
    recorded = run_by("CHG-7", ["/opt/venv/bin/migdoctor", "check", "hosta", "hostb", "--ignore", "link=slow, known"])

    assert recorded["command"] == "migdoctor check hosta hostb --ignore 'link=slow, known'"
    assert shlex.split(recorded["command"])[-1] == "link=slow, known"
    assert recorded["host"] == socket.gethostname() and recorded["user"]
    assert recorded["change_ref"] == "CHG-7"


def test_html_lists_an_accepted_risk_apart_with_its_reason(accepted):
    page = rendered(accepted, Format.html)

    findings = page.split("<h2>Findings</h2>")[1].split("<h2>Accepted risks</h2>")
    assert "dns.migration-host-address" not in findings[0]  # not under the FAIL heading
    assert "<code>dns.migration-host-address</code>" in findings[1] and REASON in findings[1]
    assert "Run by alice on jump1 for CHG-7" in page and "Command: migdoctor check hosta hostb" in page


def test_text_markdown_and_junit_give_the_reason(accepted):
    text = rendered(accepted, Format.text)
    assert text.index("accepted risks:") < text.index("dns.migration-host-address: ")
    assert f"(accepted risk: {REASON})" in text
    markdown = rendered(accepted, Format.markdown)
    risks = markdown.split("## Accepted risks")[1]
    assert "| FAIL | `dns.migration-host-address` |" in risks and REASON in risks
    assert "### FAIL `dns.migration-host-address`" not in markdown
    assert "- Run by alice on jump1 for CHG-7" in markdown
    assert f"accepted risk ({REASON})" in rendered(accepted, Format.junit)


def test_html_shows_both_hosts_before_the_findings():
    page = rendered(example("seed"), Format.html)

    assert page.index("<h2>Hosts</h2>") < page.index("<h2>Findings</h2>")
    hosts = page.split('<table id="hosts">')[1].split("</table>")[0]
    assert hosts.count("9.0.0") == 2 and hosts.count("7.2.22") == 2  # libvirt and QEMU of both


def test_markdown_puts_the_verdict_first_and_orders_findings_as_the_html():
    markdown = rendered(example("seed"), Format.markdown)
    lines = markdown.splitlines()

    assert lines[2] == "**FAILED**: 4 fail, 0 error, 1 warn, 6 skip, 16 pass (exit status 1)"
    assert markdown.index("## Hosts") < markdown.index("## Fix lines") < markdown.index("## Findings")
    statuses = [line.split()[1] for line in lines if line.startswith("### ")]
    assert statuses == sorted(statuses, key=("FAIL", "ERROR", "WARN").index) and "WARN" in statuses
    table = markdown.split("## Skipped and passed")[1].split("| status | check | summary |\n|---|---|---|\n")[1]
    rest = [line.split(" | ")[0].strip("| ") for line in table.splitlines()]
    assert rest == sorted(rest, key=("SKIP", "PASS").index) and set(rest) == {"SKIP", "PASS"}


def test_each_leg_has_its_own_chart_from_its_own_start_on_its_own_scale():
    pair = pairs_of(example("seed"))[0]
    pair["migration_trial"]["legs"][1]["throughput"] = [
        {**point, "mbps": point["mbps"] * 10 if point["mbps"] else point["mbps"]}
        for point in pair["migration_trial"]["legs"][1]["throughput"]
    ]  # a 1000 Mb/s leg beside the 100 Mb/s one

    slow, fast = throughput_charts(pair)

    for chart, leg in zip((slow, fast), pair["migration_trial"]["legs"], strict=True):
        peak = max(p["mbps"] for p in leg["throughput"] if p["mbps"] is not None)
        top = float(chart["y_ticks"][-1]["label"])
        assert peak < top < 1.5 * peak  # not twice the maximum
        xs = [float(point.split(",")[0]) for point in chart["points"].split()]
        assert min(xs) < chart["left"] + 0.05 * (chart["right"] - chart["left"])  # its own start
        assert max(xs) == chart["right"]  # the x axis ends with the data
        assert chart["x_ticks"][-1]["x"] <= chart["right"]
    assert float(slow["y_ticks"][-1]["label"]) < float(fast["y_ticks"][-1]["label"]) / 5


def test_the_speed_label_is_under_the_chart_not_over_its_lines():
    page = rendered(example("seed"), Format.html)
    chart = page.split('<div id="throughput-chart">')[1].split("</div>\n<p")[0]

    label = re.search(r'<text x="[\d.]+" y="([\d.]+)"[^>]*>- - a-lan effective speed 100 Mb/s</text>', chart)
    bottom = max(float(y) for y in re.findall(r'<line x1="\d+" y1="([\d.]+)"', chart))
    assert label and float(label.group(1)) > bottom


def test_skips_are_one_table_and_headings_keep_to_what_follows():
    page = rendered(example("seed"), Format.html)

    assert 'class="finding skip"' not in page and '<table class="skip">' in page
    assert "h1, h2, h3 { break-after: avoid;" in page


def test_fleet_banner_carries_counts_and_each_pair_starts_a_page():
    fleet = json.loads((ROOT / "tests" / "data" / "fleet-report.json").read_text(encoding="utf-8"))

    page = rendered(fleet, Format.html)

    banner = page.split('id="verdict">')[1].split("</div>")[0]
    assert banner == "FAILED: 2 pairs: 2 fail; checks: 5 fail, 33 skip, 14 pass, 2 ignored (exit status 1)"
    assert page.count('<section class="pair">') == 2 and ".fleet section.pair { break-before: page;" in page
    said = "listen.migration-address: wildcard listen accepted: only the migration network routes here"
    assert f"<li><code>{said.replace(':', '</code>:', 1)}</li>" in page
    assert f"accepted risk: {said}" in rendered(fleet, Format.text).splitlines()
    assert f"- Accepted risk: `{said.replace(':', '`:', 1)}" in rendered(fleet, Format.markdown).splitlines()


def test_quiet_text_leaves_out_skips_too():
    lines = rendered(example("seed"), Format.text, quiet=True).splitlines()

    assert not [line for line in lines if line.startswith(("SKIP", "PASS"))]
    assert [line for line in lines if line.startswith("FAIL")]


def test_format_named_takes_md_and_file_suffixes():
    assert format_named("md") is Format.markdown and format_named("markdown") is Format.markdown
    assert format_named("html") is Format.html
    with pytest.raises(ValueError, match="'pdf' is none of"):
        format_named("pdf")


def test_old_schema_reports_still_render_in_every_format():
    report = example("seed")
    assert report["schema_version"] == "2"
    console = Console(record=True, width=200, color_system=None)
    render_text(report, console)
    for name in Format:
        assert rendered(report, name)
