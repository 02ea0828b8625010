"""The check catalogue `migdoctor checks` prints, made from the registry alone: a table for the
terminal, each check's description, rationale and fix in full, the README's check table in Markdown
(so the documentation cannot drift from the code), and JSON for tools."""

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
    """One table per area, in registry order, each led by what the area covers."""
    lines: list[str] = []
    for area, members in groupby(checks, key=lambda check: check.area):
        group = list(members)
        lines += [f"**{area}**: {cell(area_summary(group[0]))}", ""]
        lines += ["| id | severity | fails when | why it matters | fix |", "|---|---|---|---|---|"]
        lines += [
            f"| `{check.id}` | {check.severity} | "
            + " | ".join(cell(text or "-") for text in (check.description, check.rationale, check.fix))
            + " |"
            for check in group
        ]
        lines.append("")
    return "\n".join(lines)


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
