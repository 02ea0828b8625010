"""The report for a terminal: the path first (the thread's question), then one line per check,
evidence and remediation under the ones that did not pass. Colour only on a terminal."""

from __future__ import annotations

import io
from typing import Any

from rich.console import Console
from rich.markup import escape

from migdoctor.report.safe import printable_data
from migdoctor.report.writers import Format, RenderOptions, Writer

MARKS = {
    "pass": ("PASS", "green"),
    "warn": ("WARN", "yellow"),
    "fail": ("FAIL", "red"),
    "skip": ("SKIP", "dim"),
    "error": ("ERROR", "magenta"),
}


def path_verdict(report: dict[str, Any]) -> str:
    path, intent = report["path"], report["intent"]
    network = intent["migration_network"]
    how = "inferred: " + intent["decided_by"] if intent["inferred"] else "from " + intent["decided_by"]
    if path is None or path["on_migration_network"] is None:
        return f"[yellow]cannot tell whether this is the migration network ({network or 'none known'})[/]"
    if path["on_migration_network"]:
        return f"[green]on the migration network {network}[/] ({escape(how)})"
    return f"[red bold]NOT on the migration network {network}[/] ({escape(how)})"


def finding_lines(finding: dict[str, Any]) -> list[str]:
    mark, colour = MARKS[finding["status"]]
    ignored = " [dim](ignored)[/]" if finding["ignored"] else ""
    lines = [f"[{colour}]{mark:5}[/] {finding['id']}: {escape(finding['summary'])}{ignored}"]
    if finding["status"] in ("fail", "warn", "error"):
        for item in finding["evidence"]:
            expected = f" (expected {escape(str(item['expected']))})" if item["expected"] is not None else ""
            lines.append(
                f"        {escape(item['host'])}: {escape(item['item'])} = {escape(str(item['actual']))}{expected}"
            )
        if finding["remediation"]:
            lines.append(f"        fix: {escape(finding['remediation'])}")
    return lines


def render_text(report: dict[str, Any], console: Console, quiet: bool = False) -> None:
    report = printable_data(report)
    path = report["path"]
    console.print(f"path: {escape(path['text']) if path else 'unknown'}", highlight=False)
    console.print(f"      {path_verdict(report)}", highlight=False)
    for reason in report["not_checked"]:
        console.print(f"[yellow]not checked:[/] {escape(reason)}", highlight=False)
    for finding in report["findings"]:
        if quiet and finding["status"] == "pass":
            continue
        for line in finding_lines(finding):
            console.print(line, highlight=False)
    totals = report["totals"]
    summary = ", ".join(f"{totals[key]} {key}" for key in ("pass", "warn", "fail", "skip", "error") if totals[key])
    if totals["ignored"]:
        summary += f", {totals['ignored']} ignored"
    console.print(f"{len(report['findings'])} checks: {summary} ({report['duration_s']:.2f} s)", highlight=False)


def render(report: dict[str, Any], options: RenderOptions) -> str:
    buffer = io.StringIO()
    console = Console(  # emoji off: ":100:" inside an IPv6 address is no emoji
        file=buffer,
        force_terminal=options.color,
        color_system="standard" if options.color else None,
        soft_wrap=True,
        emoji=False,
    )
    render_text(report, console, quiet=options.quiet)
    return buffer.getvalue()


WRITER = Writer(Format.text, render)
