"""The same report as Markdown, for pasting into a change request. Several pairs: the matrix and
the causes first (as the text), then each pair's section."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from migdoctor.report.causes import SHOWN, causes, pair_names
from migdoctor.report.document import EXIT_MEANINGS
from migdoctor.report.safe import printable_data
from migdoctor.report.writers import Format, Writer, pairs_of


def cell(value: Any) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def exited(report: dict[str, Any]) -> str:
    return f"{report['exit_status']} ({EXIT_MEANINGS[report['exit_status']]})"


def render_markdown(report: dict[str, Any]) -> str:
    report = printable_data(report)
    pairs = pairs_of(report)
    if len(pairs) == 1:
        return render_pair(pairs[0])
    return "\n".join([*fleet_lines(report, pairs), *(render_pair(pair) for pair in pairs)])


def fleet_lines(report: dict[str, Any], pairs: Sequence[dict[str, Any]]) -> list[str]:
    """The matrix (rows: source; columns: destination) and each cause once."""
    cells = report["matrix"]
    destinations = [label for label in report["hosts"] if any(label in row for row in cells.values())]
    lines = [
        f"# Migration path check: {len(pairs)} pairs",
        "",
        f"- Run `{report['run_id']}`, {report['started_at']} ({report['duration_s']:.2f} s), migdoctor {report['tool_version']}; exit status {exited(report)}",
        "",
        "| source \\ destination | " + " | ".join(cell(d) for d in destinations) + " |",
        "|---|" + "---|" * len(destinations),
    ]
    for src, row in cells.items():
        shown = [
            f"{SHOWN[row[d]['verdict']]} {cell(row[d]['source_link'] or '')}".strip() if d in row else ""
            for d in destinations
        ]
        lines.append(f"| {cell(src)} | " + " | ".join(shown) + " |")
    found = causes(pairs)
    if found:
        lines += ["", "## Causes", ""]
    for cause in found:
        lines.append(
            f"- **{cause.status.upper()}** `{cause.check_id}` on {len(cause.pairs)} pair(s) ({cell(pair_names(cause.pairs))}): {cell(cause.summary)}"
        )
        lines += [f"  - fix: `{fix}`" for fix in cause.fixes]
    lines += [""] + [f"- Not checked: {reason}" for reason in report["not_checked"]]
    return lines + [""]


def render_pair(report: dict[str, Any]) -> str:
    hosts, intent, path = report["hosts"], report["intent"], report["path"]
    lines = [
        f"# Migration path check: {hosts['source']['label']} -> {hosts['destination']['label']}",
        "",
        f"- Run `{report['run_id']}`, {report['started_at']} ({report['duration_s']:.2f} s), migdoctor {report['tool_version']}",
        f"- Migration network: `{intent['migration_network']}` ({'inferred: ' if intent['inferred'] else 'from '}{intent['decided_by']})",
        f"- Predicted path: `{path['text'] if path else 'unknown'}`",
        f"- On the migration network: **{ {True: 'yes', False: 'NO', None: 'unknown'}[path['on_migration_network'] if path else None] }**",
        "",
    ]
    for reason in report["not_checked"]:
        lines.append(f"- Not checked: {reason}")
    lines += [f"- Not verified: {line}" for line in report.get("unverified") or []]  # none in schema 1 and 2
    lines += ["", "| status | check | summary |", "|---|---|---|"]
    for finding in report["findings"]:
        status = finding["status"].upper() + (" (ignored)" if finding["ignored"] else "")
        lines.append(f"| {status} | `{finding['id']}` | {cell(finding['summary'])} |")
    problems = [f for f in report["findings"] if f["status"] in ("fail", "warn", "error")]
    if problems:
        lines += ["", "## Findings to act on", ""]
    for finding in problems:
        lines += [f"### {finding['status'].upper()} `{finding['id']}`: {finding['title']}", "", finding["summary"], ""]
        if finding["evidence"]:
            lines += ["| host | item | actual | expected |", "|---|---|---|---|"]
            lines += [
                f"| {cell(e['host'])} | {cell(e['item'])} | `{cell(e['actual'])}` | `{cell(e['expected'])}` |"
                for e in finding["evidence"]
            ]
        if finding["remediation"]:
            lines += ["", f"Remediation: `{finding['remediation']}`"]
        lines.append("")
    totals = report["totals"]
    lines.append(
        "Totals: " + ", ".join(f"{key} {value}" for key, value in totals.items()) + f"; exit status {exited(report)}"
    )
    return "\n".join(lines) + "\n"


WRITER = Writer(Format.markdown, lambda report, _options: render_markdown(report))
