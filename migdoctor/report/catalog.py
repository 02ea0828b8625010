"""The check catalogue `migdoctor checks` prints, made from the registry alone: a table for the
terminal, each check's description, rationale and fix in full, the checks reference in Markdown
(docs/checks.md is its output, so the documentation cannot drift from the code), and JSON for tools."""

from __future__ import annotations

import inspect
import json
import textwrap
from itertools import groupby
from typing import Any

from migdoctor.checkapi import Check
from migdoctor.engine import DropIn
from migdoctor.report.markdown import cell
from migdoctor.report.safe import printable


def record(check: Check) -> dict[str, Any]:
    return {
        "id": check.id,
        "area": check.area,
        "title": check.title,
        "severity": check.severity,
        "origin": check.origin,
        "needs": list(check.needs),
        "description": check.description,
        "rationale": check.rationale,
        "fix": check.fix,
    }


def render_json(checks: list[Check]) -> str:
    return json.dumps({"checks": [record(check) for check in checks]}, indent=2) + "\n"


def area_summary(check: Check) -> str:
    """What an area covers: the first paragraph of its module's docstring, on one line."""
    doc = check.run.doc if isinstance(check.run, DropIn) else inspect.getdoc(inspect.getmodule(check.run)) or ""
    return " ".join(doc.split("\n\n", 1)[0].split())


def render_markdown(checks: list[Check]) -> str:
    """The checks reference: an index of the areas, then each area with each of its checks in full."""
    areas = [(area, list(members)) for area, members in groupby(checks, key=lambda check: check.area)]
    lines = [
        "# The checks",
        "",
        f"{len(checks)} checks in {len(areas)} areas, from the checks' own metadata"
        " (`migdoctor checks --format markdown`; `migdoctor checks ID|AREA` shows the same in a terminal)."
        " Each finding names the host, file and line to change.",
        "",
        "| area | checks | what it covers |",
        "|---|---|---|",
    ]
    lines += [
        f"| {area} | {', '.join(f'`{check.id}`' for check in group)} | {cell(area_summary(group[0]))} |"
        for area, group in areas
    ]
    for area, group in areas:
        lines += ["", f"## {area}", "", cell(area_summary(group[0]))]
        for check in group:
            lines += ["", f"### {check.id}", "", f"**{cell(check.title)}** ({check.severity}"]
            if check.origin != "built-in":
                lines[-1] += f", {cell(check.origin)}"
            lines[-1] += ")"
            lines += [""] + [
                f"- **{label}**: {cell(text or '-')}"
                for label, text in (
                    ("Fails when", check.description),
                    ("Why it matters", check.rationale),
                    ("Fix", check.fix),
                    ("Reads", ", ".join(f"`{need}`" for need in check.needs)),
                )
            ]
    return "\n".join(lines) + "\n"


def render_details(checks: list[Check], width: int) -> str:
    """Each check in full, for `migdoctor checks ID|AREA...`."""
    blocks = []
    for check in checks:
        # the metadata was held to printable text at load; a drop-in's file name was not
        block = [f"{check.id} ({check.severity}, {printable(check.origin)})", f"  {check.title}"]
        for label, text in (("fails when", check.description), ("why", check.rationale), ("fix", check.fix)):
            paragraph = f"{label}: {text or '(not given)'}"
            block.append(textwrap.fill(paragraph, width, initial_indent="  ", subsequent_indent="    "))
        blocks.append("\n".join(block))
    return "\n\n".join(blocks) + "\n"
