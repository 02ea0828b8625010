"""What a many-pair report says first: the source x destination matrix, and each cause of what
did not pass once, naming every pair it hits. A cause is a check's status and summary with the
pair's own host names and addresses taken out, so "hostc advertises hostc.lab, which hosta
resolves to 192.0.2.3" and the same finding from hostb group as one line."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from migdoctor.report.document import EXIT_INCOMPLETE
from migdoctor.report.encoded import Encoded
from migdoctor.report.values import is_pointer

GRID_MOST = 10  # destinations shown as columns; more are summed up per source
SECTIONS_MOST = 50  # pairs a fleet's HTML and Markdown show in full; past it, that many of those not passing
NAMED_MOST = 12  # pairs or fixes named on a cause's line; more are counted
# What may be an address: bracketed IPv6, IPv4, or hex digits with colons; a "/prefix" after it
# makes it a network (198.51.100.0/24 names the migration network in every pair), kept as written.
CANDIDATE = re.compile(r"\[[0-9A-Fa-f:.]+\]|\b\d{1,3}(?:\.\d{1,3}){3}\b(?:/\d+)?|[0-9A-Fa-f]*:[0-9A-Fa-f:.]*(?:/\d+)?")
MATRIX_MARKS = {"pass": "green", "warn": "yellow", "fail": "red", "not checked": "magenta", "incomplete": "cyan"}
SHOWN = {"pass": "pass", "warn": "WARN", "fail": "FAIL", "not checked": "not checked", "incomplete": "INCOMPLETE"}
# What makes a cause: a finding of these statuses, or what of an incomplete pair's path is unverified.
ORDER = {"fail": 0, "error": 0, "incomplete": 1, "warn": 2}
UNVERIFIED = "path"  # the cause's name for a part of the path that could not be verified


@dataclass
class Cause:
    check_id: str
    status: str
    summary: str  # as written when every pair says the same, else with <source>, <destination>, <address>
    pairs: list[tuple[str, str]] = field(default_factory=list)
    fixes: list[str] = field(default_factory=list)


def host_names(host: dict[str, Any]) -> list[str]:
    identity = host.get("identity") or {}
    names = [host["label"], identity.get("fqdn"), identity.get("hostname")]
    return sorted({name for name in names if name}, key=len, reverse=True)  # longest first: fqdn before label


def address_free(match: re.Match[str]) -> str:
    word = match.group(0)
    return "<address>" if is_address(word) else word  # else a network, a time, a port range


@lru_cache(maxsize=8192)
def is_address(word: str) -> bool:
    """Whether WORD (bracketed or not) is an IP address; asked once per word in a fleet's summaries."""
    try:
        ipaddress.ip_address(word.strip("[]"))
    except ValueError:
        return False
    return True


def abstracted(summary: str, pair: dict[str, Any]) -> str:
    """SUMMARY without what names this pair: its hosts' names, any address."""
    text = CANDIDATE.sub(address_free, summary)
    for role in ("source", "destination"):
        for name in host_names(pair["hosts"][role]):
            if name in text:  # a substring test first: most names are not in a summary
                text = name_pattern(name).sub(f"<{role}>", text)
    return text


@lru_cache(maxsize=4096)
def name_pattern(name: str) -> re.Pattern[str]:
    """NAME as a whole word of a summary, compiled once (a fleet names hundreds of hosts)."""
    return re.compile(rf"(?<![\w.-]){re.escape(name)}(?![\w-])")


def named_back(summary: str, pairs: list[tuple[str, str]]) -> str:
    """An abstracted SUMMARY with the source or destination every pair shares named again."""
    for role, labels in (("source", {src for src, _ in pairs}), ("destination", {dst for _, dst in pairs})):
        if len(labels) == 1:
            summary = summary.replace(f"<{role}>", next(iter(labels)))
    return summary


def causes(pairs: Iterable[dict[str, Any]]) -> list[Cause]:
    """Each cause once, worst first, then by how many pairs it hits; accepted risks left out."""
    found: dict[tuple[str, str, str], Cause] = {}
    worded_differently: set[tuple[str, str, str]] = set()
    for pair in pairs.kept(has_cause) if isinstance(pairs, Encoded) else pairs:
        said = [
            (f["id"], f["status"], f["summary"], f["remediation"])
            for f in pair["findings"]
            if f["status"] in ORDER and not f["ignored"]
        ]
        if pair["exit_status"] == EXIT_INCOMPLETE:
            said += [(UNVERIFIED, "incomplete", line, None) for line in pair["unverified"]]
        for check_id, status, summary, remediation in said:
            key = (check_id, status, abstracted(summary, pair))
            cause = found.setdefault(key, Cause(check_id, status, summary))
            cause.pairs.append((pair["hosts"]["source"]["label"], pair["hosts"]["destination"]["label"]))
            if summary != cause.summary:
                worded_differently.add(key)
            if remediation and not is_pointer(remediation) and remediation not in cause.fixes:
                cause.fixes.append(remediation)
    for key in worded_differently:
        found[key].summary = named_back(key[2], found[key].pairs)
    ranked = sorted(found.values(), key=lambda c: (ORDER[c.status], -len(c.pairs), c.check_id))
    for cause in ranked:
        if len(cause.fixes) > NAMED_MOST:
            cause.fixes[NAMED_MOST:] = [f"and {len(cause.fixes) - NAMED_MOST} more like these"]
    return ranked


def has_cause(summary: dict[str, Any]) -> bool:
    """Whether a pair's summary (made where it was judged) shows a cause: its pair is decoded.
    An incomplete pair is known by its exit status (no total counts "incomplete")."""
    return summary["exit_status"] == EXIT_INCOMPLETE or any(summary["totals"].get(s) for s in ORDER)


def listed(names: list[str]) -> str:
    shown = ", ".join(names[:NAMED_MOST])
    return shown + (f" and {len(names) - NAMED_MOST} more" if len(names) > NAMED_MOST else "")


def pair_names(pairs: list[tuple[str, str]]) -> str:
    """The pairs as short as they go: one destination from many sources, one source to many, or each pair."""
    sources = list(dict.fromkeys(src for src, _ in pairs))
    destinations = list(dict.fromkeys(dst for _, dst in pairs))
    if len(destinations) == 1 and len(sources) > 1:
        return f"{listed(sources)} -> {destinations[0]}"
    if len(sources) == 1:
        return f"{sources[0]} -> {listed(destinations)}"
    return listed([f"{src} -> {dst}" for src, dst in pairs])


def cell_text(cell: dict[str, Any] | None, self: bool) -> tuple[str, str]:
    """(text, verdict) of one matrix cell: the verdict and the link the stream would leave by."""
    if cell is None:
        return ("" if not self else "-", "")
    link = f" {cell['source_link']}" if cell["source_link"] else ""
    return SHOWN[cell["verdict"]] + link, cell["verdict"]


def matrix_rows(report: dict[str, Any]) -> tuple[str, list[list[tuple[str, str]]]]:
    """A title and rows of (text, verdict) cells, padded for a terminal: a grid of sources and
    destinations, or, past GRID_MOST destinations, one line per source with its counts and the
    destinations not passing."""
    cells = report["matrix"]
    sources = list(cells)
    destinations = [label for label in report["hosts"] if any(label in row for row in cells.values())]
    if len(destinations) > GRID_MOST:
        title = "matrix (one line per source: its destinations' verdicts, those not passing named):"
        rows = []
        for src in sources:
            row = cells[src]
            verdicts = [cell["verdict"] for cell in row.values()]
            counted = ", ".join(f"{verdicts.count(v)} {v}" for v in SHOWN if v in verdicts)
            bad = [dst for dst, cell in row.items() if cell["verdict"] != "pass"]
            worst = next((v for v in ("fail", "not checked", "incomplete", "warn") if v in verdicts), "pass")
            text = f"{src} -> {len(row)} destinations: {counted}" + (f" (not passing: {listed(bad)})" if bad else "")
            rows.append([(text, worst)])
        return title, rows
    title = "matrix (rows: source, columns: destination; the source's link the stream would leave by; - itself):"
    grid = [[("", "")] + [(dst, "") for dst in destinations]]
    grid += [[(src, "")] + [cell_text(cells[src].get(dst), src == dst) for dst in destinations] for src in sources]
    widths = [max(len(row[column][0]) for row in grid) for column in range(len(grid[0]))]
    return title, [
        [(text.ljust(width), verdict) for (text, verdict), width in zip(row, widths, strict=True)] for row in grid
    ]


def detailed(report: dict[str, Any], pairs: Sequence[dict[str, Any]]) -> tuple[list[dict[str, Any]], str | None]:
    """The pairs a fleet's HTML and Markdown show in full after the matrix and causes, and what
    is left out: every pair up to SECTIONS_MOST, else the first SECTIONS_MOST that did not pass,
    chosen by their matrix cells (the others are never read whole: a fleet has tens of thousands)."""
    if len(pairs) <= SECTIONS_MOST:
        return list(pairs), None
    cells = report["matrix"]
    entries = getattr(report["pairs"], "summaries", None) or report["pairs"]
    failing = [
        index for index, pair in enumerate(entries) if cells[pair["source"]][pair["destination"]]["verdict"] != "pass"
    ]
    shown = failing[:SECTIONS_MOST]
    left = f"{len(pairs) - len(failing):,} that passed" + (
        f" and {len(failing) - len(shown):,} more that did not" if len(failing) > len(shown) else ""
    )
    return [pairs[index] for index in shown], (
        f"{len(pairs):,} pairs: shown in full are {len(shown)} that did not pass; left out are {left} "
        "(the matrix and causes above name them, the JSON report holds each)"
    )


def fleet_counts(report: dict[str, Any]) -> str:
    """The fleet banner's counts: pairs by verdict, then checks by status."""
    verdicts = [cell["verdict"] for row in report["matrix"].values() for cell in row.values()]
    pairs = ", ".join(f"{verdicts.count(v)} {v}" for v in SHOWN if v in verdicts)
    totals = report["totals"]
    checks = ", ".join(f"{totals[key]} {key}" for key in ("fail", "error", "warn", "skip", "pass") if totals[key])
    return f"{len(verdicts)} pairs: {pairs}; checks: {checks}" + (
        f", {totals['ignored']} ignored" if totals["ignored"] else ""
    )
