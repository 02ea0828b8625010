"""The report for a terminal: the path first (the thread's question), then one line per check,
evidence and remediation under the ones that did not pass. A report of several pairs shows the
source x destination matrix first, then what did not pass grouped by cause (migdoctor.report.causes),
one line naming every pair it hits. Colour only on a terminal."""

from __future__ import annotations

import io
from typing import Any

from rich.console import Console
from rich.markup import escape

from migdoctor.report.causes import MATRIX_MARKS, SHOWN, causes, matrix_rows, pair_names
from migdoctor.report.document import verdict
from migdoctor.report.guests import blocking, destinations, evacuation_line, guest_table, plan_lines
from migdoctor.report.safe import printable_report
from migdoctor.report.values import accepted, is_pointer, pointed, reason, shown
from migdoctor.report.writers import Format, RenderOptions, Writer, pairs_of

LONGEST_SHOWN = 2000  # characters of one value a reader is shown; the JSON report keeps it whole
MARKS = {
    "pass": ("PASS", "green"),
    "warn": ("WARN", "yellow"),
    "fail": ("FAIL", "red"),
    "skip": ("SKIP", "dim"),
    "error": ("ERROR", "magenta"),
    "incomplete": ("INCOMPLETE", "cyan"),  # a cause: what of an incomplete pair's path is unverified
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


def finding_lines(finding: dict[str, Any], findings: list[dict[str, Any]], why: str | None = None) -> list[str]:
    """A finding's line, and under one that did not pass its evidence and fix (a pointer to other
    findings marks those that passed); WHY: the reason an accepted risk was accepted."""
    mark, colour = MARKS[finding["status"]]
    ignored = f" [dim](accepted risk: {escape(why or 'no reason given')})[/]" if finding["ignored"] else ""
    lines = [f"[{colour}]{mark:5}[/] {finding['id']}: {escape(finding['summary'])}{ignored}"]
    if finding["status"] in ("fail", "warn", "error"):
        for item in finding["evidence"]:
            expected = f" (expected {escape(shown(item['expected']))})" if item["expected"] is not None else ""
            lines.append(
                f"        {escape(item['host'])}: {escape(item['item'])} = {escape(shown(item['actual']))}{expected}"
            )
        if finding["remediation"]:
            if is_pointer(finding["remediation"]):
                lines.append(f"        {escape(pointed(finding['remediation'], findings))}")
            else:
                lines.append(f"        fix: {escape(finding['remediation'])}")
    return lines


def render_pair(report: dict[str, Any], console: Console, quiet: bool = False) -> None:
    path = report["path"]
    console.print(f"path: {escape(path['text']) if path else 'unknown'}", highlight=False)
    console.print(f"      {path_verdict(report)}", highlight=False)
    for line in report.get("unverified") or []:  # schema 1 and 2 reports have none
        console.print(f"[cyan]not verified:[/] {escape(line)}", highlight=False)
    for line in report["not_checked"]:
        console.print(f"[yellow]not checked:[/] {escape(line)}", highlight=False)
    risks = accepted(report["findings"])
    for finding in report["findings"]:
        if finding in risks or (quiet and finding["status"] in ("pass", "skip")):
            continue
        for line in finding_lines(finding, report["findings"]):
            console.print(line, highlight=False)
    if risks:
        console.print("accepted risks:", highlight=False)
    for finding in risks:
        for line in finding_lines(finding, report["findings"], reason(report, finding)):
            console.print(line, highlight=False)
    incomplete = "; [cyan]INCOMPLETE[/]: the path is not verified" if verdict(report) == "incomplete" else ""
    console.print(
        f"{len(report['findings'])} checks: {totals_line(report['totals'])} ({report['duration_s']:.2f} s){incomplete}",
        highlight=False,
    )


def totals_line(totals: dict[str, int]) -> str:
    summary = ", ".join(f"{totals[key]} {key}" for key in ("pass", "warn", "fail", "skip", "error") if totals[key])
    return summary + (f", {totals['ignored']} ignored" if totals["ignored"] else "")


def render_fleet(report: dict[str, Any], console: Console) -> None:
    """The matrix, then each cause once with the pairs it hits, then what was not checked."""
    title, rows = matrix_rows(report)
    console.print(title, highlight=False)
    for row in rows:
        shown = [f"[{MATRIX_MARKS[verdict]}]{escape(text)}[/]" if verdict else escape(text) for text, verdict in row]
        console.print("  " + "  ".join(shown), highlight=False)
    for cause in causes(pairs_of(report)):
        mark, colour = MARKS[cause.status]
        names = pair_names(cause.pairs)
        console.print(
            f"[{colour}]{mark:5}[/] {cause.check_id} on {len(cause.pairs)} pair{'s' if len(cause.pairs) > 1 else ''} "
            f"({escape(names)}): {escape(cause.summary)}",
            highlight=False,
        )
        for fix in cause.fixes:
            console.print(f"        fix: {escape(fix)}", highlight=False)
    for risk in report.get("accepted_risks") or []:
        console.print(
            f"accepted risk: {escape(risk['id'])}: {escape(risk['reason'] or 'no reason given')}", highlight=False
        )
    for line in report["not_checked"]:
        console.print(f"[yellow]not checked:[/] {escape(line)}", highlight=False)
    verdicts = [cell["verdict"] for row in report["matrix"].values() for cell in row.values()]
    counted = ", ".join(f"{verdicts.count(v)} {v}" for v in SHOWN if v in verdicts)
    console.print(
        f"{len(report['pairs'])} pairs: {counted}; checks: {totals_line(report['totals'])} ({report['duration_s']:.2f} s)",
        highlight=False,
    )


def render_guests(report: dict[str, Any], console: Console) -> None:
    """The guests x destinations table, what keeps each guest from each destination (with its
    evidence and fix), then the plan."""
    places = destinations(report)
    rows = guest_table(report)
    width = max(len(name) for name, _ in rows)
    widths = [max(len(place), len("not checked")) for place in places]
    header = "  ".join(place.ljust(size) for place, size in zip(places, widths, strict=True)).rstrip()
    console.print(f"guests: {'guest'.ljust(width)}  {escape(header)}", highlight=False)
    for name, verdicts in rows:
        cells = [
            f"[{MATRIX_MARKS[verdicts[place]]}]{SHOWN[verdicts[place]]}[/]{' ' * (size - len(SHOWN[verdicts[place]]))}"
            if place in verdicts
            else " " * size
            for place, size in zip(places, widths, strict=True)
        ]
        console.print(f"        {escape(name.ljust(width))}  {'  '.join(cells).rstrip()}", highlight=False)
    for guest in report["guests"]:
        if guest["verdict"] == "pass":
            continue
        console.print(f"{escape(guest['name'])} -> {escape(guest['destination'])}: {guest['verdict']}", highlight=False)
        if guest["pair_verdict"] not in ("pass", "warn"):
            console.print(
                f"  its path {escape(guest['source'])} -> {escape(guest['destination'])} is {guest['pair_verdict']}"
            )
        for line in guest["not_checked"]:
            console.print(f"  [yellow]not checked:[/] {escape(line)}", highlight=False)
        for finding in blocking(guest):
            for line in finding_lines(finding, guest["findings"]):
                console.print(f"  {line}", highlight=False)
    console.print("plan:", highlight=False)
    for line in plan_lines(report, escape):
        console.print(f"  {line}", highlight=False)
    if evacuation := evacuation_line(report):
        console.print(escape(evacuation), highlight=False)


def render_text(report: dict[str, Any], console: Console, quiet: bool = False) -> None:
    report = printable_report(report, LONGEST_SHOWN)
    pairs = pairs_of(report)
    if len(pairs) == 1:
        render_pair(pairs[0], console, quiet)
        for line in report.get("not_checked") or []:  # the run's own lines (a source whose guests are unknown)
            if line not in pairs[0]["not_checked"]:
                console.print(f"[yellow]not checked:[/] {escape(line)}", highlight=False)
    else:
        render_fleet(report, console)
    if report.get("guests"):
        render_guests(report, console)
    elif "plan" in report:
        console.print("guests: none judged", highlight=False)


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
