"""The same report as Markdown, for pasting into a change request."""

from __future__ import annotations

from typing import Any

from migdoctor.report.safe import printable_data
from migdoctor.report.writers import Format, Writer


def cell(value: Any) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def render_markdown(report: dict[str, Any]) -> str:
    report = printable_data(report)
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
        "Totals: "
        + ", ".join(f"{key} {value}" for key, value in totals.items())
        + f"; exit status {report['exit_status']}"
    )
    return "\n".join(lines) + "\n"


WRITER = Writer(Format.markdown, lambda report, _options: render_markdown(report))
