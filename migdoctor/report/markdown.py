"""The same report as Markdown, for pasting into a change request. Several pairs: the matrix and
the causes first (as the text), then each pair's section."""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from typing import Any

from migdoctor.report.causes import SHOWN, causes, fleet_counts, pair_names
from migdoctor.report.document import EXIT_MEANINGS
from migdoctor.report.guests import blocking, destinations, evacuation_line, guest_table, plan_lines
from migdoctor.report.safe import printable_report
from migdoctor.report.values import accepted, fixes_of, is_pointer, pointed, reason, run_by_lines, shown
from migdoctor.report.writers import Format, Writer, pairs_of


def cell(value: Any) -> str:
    """Markdown the code wrote (a check's description) as one table cell."""
    return str(value).replace("|", "\\|").replace("\n", " ")


def text(value: Any) -> str:
    """Host data as text in a line or a table cell: raw HTML in it (a hostname or config value a
    host chose) shows as the characters it is, never as markup a renderer would run."""
    return cell(html.escape(str(value), quote=False))


def code(value: Any, in_table: bool = True) -> str:
    """Host data as a code span, where HTML is not markup: fenced by one backtick more than the
    longest run of them inside (CommonMark), so none can end the span early and let HTML out."""
    shown = str(value).replace("\n", " ")
    if in_table:
        shown = shown.replace("|", "\\|")
    fence = "`" * (max(map(len, re.findall("`+", shown)), default=0) + 1)
    pad = " " if shown.startswith("`") or shown.endswith("`") else ""
    return f"{fence}{pad}{shown}{pad}{fence}"


def render_markdown(report: dict[str, Any]) -> str:
    report = printable_report(report)
    pairs = pairs_of(report)
    guests = guest_lines(report) if "guests" in report else []
    if len(pairs) == 1:
        return "\n".join([render_pair(pairs[0]), *guests])
    return "\n".join([*fleet_lines(report, pairs), *(render_pair(pair, alone=False) for pair in pairs), *guests])


def guest_lines(report: dict[str, Any]) -> list[str]:
    """The guests x destinations table, what keeps each guest from a destination, and the plan."""
    places = destinations(report)
    lines = ["## Guests", ""]
    if not report["guests"]:
        return [*lines, "None judged.", ""]
    lines += ["| guest | " + " | ".join(text(place) for place in places) + " |", "|---|" + "---|" * len(places)]
    for name, verdicts in guest_table(report):
        lines.append(
            f"| {text(name)} | " + " | ".join(SHOWN[verdicts[p]] if p in verdicts else "" for p in places) + " |"
        )
    lines.append("")
    for guest in report["guests"]:
        if guest["verdict"] == "pass":
            continue
        lines.append(f"- {text(guest['name'])} -> {text(guest['destination'])}: **{SHOWN[guest['verdict']]}**")
        if guest["pair_verdict"] not in ("pass", "warn"):
            lines.append(
                f"  - its path {text(guest['source'])} -> {text(guest['destination'])} is {guest['pair_verdict']}"
            )
        lines += [f"  - not checked: {text(line)}" for line in guest["not_checked"]]
        for finding in blocking(guest):
            lines.append(f"  - {finding['status'].upper()} `{finding['id']}`: {text(finding['summary'])}")
            if finding["remediation"] and not is_pointer(finding["remediation"]):
                lines.append(f"    - fix: {code(finding['remediation'], in_table=False)}")
    lines += ["", "## Plan", "", *(f"- {line}" for line in plan_lines(report, text))]
    if evacuation := evacuation_line(report):
        lines += ["", text(evacuation[0].upper() + evacuation[1:])]
    return [*lines, ""]


def fleet_lines(report: dict[str, Any], pairs: Sequence[dict[str, Any]]) -> list[str]:
    """The matrix (rows: source; columns: destination) and each cause once."""
    cells = report["matrix"]
    destinations = [label for label in report["hosts"] if any(label in row for row in cells.values())]
    lines = [
        f"# Migration path check: {len(pairs)} pairs",
        "",
        f"**{EXIT_MEANINGS[report['exit_status']].upper()}**: {fleet_counts(report)} (exit status {report['exit_status']})",
        "",
        f"- Run {code(report['run_id'], in_table=False)}, {text(report['started_at'])} ({report['duration_s']:.2f} s), migdoctor {text(report['tool_version'])}",
        *(f"- {text(line)}" for line in run_by_lines(report)),
        "",
        "| source \\ destination | " + " | ".join(text(d) for d in destinations) + " |",
        "|---|" + "---|" * len(destinations),
    ]
    for src, row in cells.items():
        shown = [
            f"{SHOWN[row[d]['verdict']]} {text(row[d]['source_link'] or '')}".strip() if d in row else ""
            for d in destinations
        ]
        lines.append(f"| {text(src)} | " + " | ".join(shown) + " |")
    found = causes(pairs)
    if found:
        lines += ["", "## Causes", ""]
    for cause in found:
        lines.append(
            f"- **{cause.status.upper()}** `{cause.check_id}` on {len(cause.pairs)} pair(s) ({text(pair_names(cause.pairs))}): {text(cause.summary)}"
        )
        lines += [f"  - fix: {code(fix, in_table=False)}" for fix in cause.fixes]
    lines += [""] + [
        f"- Accepted risk: {code(risk['id'], in_table=False)}: {text(risk['reason'] or 'no reason given')}"
        for risk in report.get("accepted_risks") or []
    ]
    lines += [""] + [f"- Not checked: {text(line)}" for line in report["not_checked"]]
    return lines + [""]


STATUS_ORDER = ("fail", "error", "warn", "skip", "pass")  # as the HTML orders them


def verdict_line(report: dict[str, Any]) -> str:
    """The verdict and totals, first: what a change board reads before anything else."""
    totals = report["totals"]
    counted = ", ".join(f"{totals[key]} {key}" for key in STATUS_ORDER)
    ignored = f", {totals['ignored']} ignored" if totals["ignored"] else ""
    return (
        f"**{EXIT_MEANINGS[report['exit_status']].upper()}**: {counted}{ignored} (exit status {report['exit_status']})"
    )


def hosts_lines(hosts: dict[str, Any]) -> list[str]:
    """Both hosts and their versions, side by side."""
    src, dst = hosts["source"], hosts["destination"]
    rows = [("label", src["label"], dst["label"]), ("reached by", src["transport"], dst["transport"])]
    for key, name in (
        ("fqdn", "FQDN"),
        ("os", "OS"),
        ("kernel", "kernel"),
        ("libvirt_version", "libvirt"),
        ("qemu_version", "QEMU"),
    ):
        rows.append((name, (src["identity"] or {}).get(key) or "", (dst["identity"] or {}).get(key) or ""))
    lines = ["| | source | destination |", "|---|---|---|"]
    return lines + [f"| {name} | {text(a)} | {text(b)} |" for name, a, b in rows]


def finding_lines(finding: dict[str, Any], findings: list[dict[str, Any]]) -> list[str]:
    lines = [
        f"### {finding['status'].upper()} `{finding['id']}`: {text(finding['title'])}",
        "",
        text(finding["summary"]),
        "",
    ]
    if finding["evidence"]:
        lines += ["| host | item | actual | expected |", "|---|---|---|---|"]
        lines += [
            f"| {text(e['host'])} | {text(e['item'])} | {code(shown(e['actual']))} | "
            + (code(shown(e["expected"])) if e["expected"] is not None else "")
            + " |"
            for e in finding["evidence"]
        ]
    if is_pointer(finding["remediation"]):
        lines += ["", text(pointed(finding["remediation"], findings))]
    elif finding["remediation"]:
        lines += ["", f"Remediation: {code(finding['remediation'], in_table=False)}"]
    return [*lines, ""]


def render_pair(report: dict[str, Any], alone: bool = True) -> str:
    """The verdict and totals first, who ran it, the path, both hosts, the fix lines, then the
    findings worst first (as the HTML), the skips and passes as one table, the accepted risks."""
    hosts, intent, path = report["hosts"], report["intent"], report["path"]
    lines = [
        f"# Migration path check: {text(hosts['source']['label'])} -> {text(hosts['destination']['label'])}",
        "",
        verdict_line(report),
        "",
        f"- Run {code(report['run_id'], in_table=False)}, {text(report['started_at'])} ({report['duration_s']:.2f} s), migdoctor {text(report['tool_version'])}",
    ]
    lines += [f"- {text(line)}" for line in run_by_lines(report)] if alone else []
    lines += [
        f"- Migration network: {code(intent['migration_network'], in_table=False)} ({'inferred: ' if intent['inferred'] else 'from '}{text(intent['decided_by'])})",
        f"- Predicted path: {code(path['text'] if path else 'unknown', in_table=False)}",
        f"- On the migration network: **{ {True: 'yes', False: 'NO', None: 'unknown'}[path['on_migration_network'] if path else None] }**",
    ]
    lines += [f"- Not checked: {text(line)}" for line in report["not_checked"]]
    lines += [f"- Not verified: {text(line)}" for line in report.get("unverified") or []]  # none in schema 1 and 2
    lines += ["", "## Hosts", "", *hosts_lines(hosts)]
    fixes = fixes_of(report["findings"])
    if fixes:
        fence = "`" * max([3, *(len(run) + 1 for line in fixes for run in re.findall("`+", line))])
        lines += ["", "## Fix lines", "", fence, *fixes, fence]
    risks = accepted(report["findings"])
    kept = [f for f in report["findings"] if f not in risks]
    problems = [f for status in STATUS_ORDER[:3] for f in kept if f["status"] == status]
    if problems:
        lines += ["", "## Findings", ""]
    for finding in problems:
        lines += finding_lines(finding, report["findings"])
    rest = [f for status in STATUS_ORDER[3:] for f in kept if f["status"] == status]
    if rest:
        lines += ["", "## Skipped and passed", "", "| status | check | summary |", "|---|---|---|"]
        lines += [f"| {f['status'].upper()} | `{f['id']}` | {text(f['summary'])} |" for f in rest]
    if risks:
        lines += ["", "## Accepted risks", "", "| status | check | finding | reason accepted |", "|---|---|---|---|"]
        lines += [
            f"| {f['status'].upper()} | `{f['id']}` | {text(f['summary'])} | {text(reason(report, f) or 'none given')} |"
            for f in risks
        ]
    return "\n".join(lines) + "\n"


WRITER = Writer(Format.markdown, lambda report, _options: render_markdown(report))
