"""The same report as Markdown, for pasting into a change request. Several pairs: the matrix and
the causes first (as the text), then each pair's section."""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from typing import Any

from migdoctor.report.causes import SHOWN, causes, pair_names
from migdoctor.report.document import EXIT_MEANINGS
from migdoctor.report.safe import printable_report
from migdoctor.report.writers import Format, Writer, pairs_of


def cell(value: Any) -> str:
    """Markdown the code wrote (a check's description) as one table cell."""
    return str(value).replace("|", "\\|").replace("\n", " ")


def exited(report: dict[str, Any]) -> str:
    return f"{report['exit_status']} ({EXIT_MEANINGS[report['exit_status']]})"


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
        f"- Run {code(report['run_id'], in_table=False)}, {text(report['started_at'])} ({report['duration_s']:.2f} s), migdoctor {text(report['tool_version'])}; exit status {exited(report)}",
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
    lines += [""] + [f"- Not checked: {text(reason)}" for reason in report["not_checked"]]
    return lines + [""]


def render_pair(report: dict[str, Any]) -> str:
    hosts, intent, path = report["hosts"], report["intent"], report["path"]
    lines = [
        f"# Migration path check: {text(hosts['source']['label'])} -> {text(hosts['destination']['label'])}",
        "",
        f"- Run {code(report['run_id'], in_table=False)}, {text(report['started_at'])} ({report['duration_s']:.2f} s), migdoctor {text(report['tool_version'])}",
        f"- Migration network: {code(intent['migration_network'], in_table=False)} ({'inferred: ' if intent['inferred'] else 'from '}{text(intent['decided_by'])})",
        f"- Predicted path: {code(path['text'] if path else 'unknown', in_table=False)}",
        f"- On the migration network: **{ {True: 'yes', False: 'NO', None: 'unknown'}[path['on_migration_network'] if path else None] }**",
        "",
    ]
    for reason in report["not_checked"]:
        lines.append(f"- Not checked: {text(reason)}")
    lines += [f"- Not verified: {text(line)}" for line in report.get("unverified") or []]  # none in schema 1 and 2
    lines += ["", "| status | check | summary |", "|---|---|---|"]
    for finding in report["findings"]:
        status = finding["status"].upper() + (" (ignored)" if finding["ignored"] else "")
        lines.append(f"| {status} | `{finding['id']}` | {text(finding['summary'])} |")
    problems = [f for f in report["findings"] if f["status"] in ("fail", "warn", "error")]
    if problems:
        lines += ["", "## Findings to act on", ""]
    for finding in problems:
        lines += [
            f"### {finding['status'].upper()} `{finding['id']}`: {text(finding['title'])}",
            "",
            text(finding["summary"]),
            "",
        ]
        if finding["evidence"]:
            lines += ["| host | item | actual | expected |", "|---|---|---|---|"]
            lines += [
                f"| {text(e['host'])} | {text(e['item'])} | {code(e['actual'])} | {code(e['expected'])} |"
                for e in finding["evidence"]
            ]
        if finding["remediation"]:
            lines += ["", f"Remediation: {code(finding['remediation'], in_table=False)}"]
        lines.append("")
    totals = report["totals"]
    lines.append(
        "Totals: " + ", ".join(f"{key} {value}" for key, value in totals.items()) + f"; exit status {exited(report)}"
    )
    return "\n".join(lines) + "\n"


WRITER = Writer(Format.markdown, lambda report, _options: render_markdown(report))
