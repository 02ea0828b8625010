"""Host data made safe to print: a hostname, config value or interface name is text a host chose,
and on a terminal an escape sequence in it would repaint the screen, a newline would forge a line
of the report. Control and format characters are shown as Python escapes (\\x1b, \\n, \\u202e);
rich markup is escaped where rich renders (rich.markup.escape). For a reader, a string may be cut
(a host's 50 MB value would take rich minutes and a screen no one reads), saying its length."""

from __future__ import annotations

import re
from typing import Any

import orjson

from migdoctor.report.encoded import Encoded

# In JSON text, an escape that can stand for a character that does not print (\n, \u001b; not \" or \\).
UNPRINTABLE_ESCAPE = re.compile(rb"\\[bfnrtu]")


def cut(text: str, limit: int | None) -> str:
    """TEXT, or its first LIMIT characters and how long it was."""
    if limit is None or len(text) <= limit:
        return text
    return f"{text[:limit]}... (cut: {len(text):,} characters in all)"


def may_hold_longer(item: bytes, limit: int) -> bool:
    """Whether JSON text may hold a string of more than LIMIT characters: no string is longer than
    the longest run of bytes between quotes, an escaped quote counted as one (a longer run that is
    no string only means a walk to be sure). Splitting is C: a fleet's pairs are checked in 0.1 s,
    a regular expression took 0.75 s."""
    return len(item) > limit and max(map(len, item.replace(b'\\"', b"_").split(b'"'))) > limit


def printable(text: str) -> str:
    """TEXT with every non-printable character shown as its escape, so it prints as one plain line."""
    if text.isprintable():
        return text
    return "".join(char if char.isprintable() else repr(char)[1:-1] for char in text)


def printable_data(value: Any, limit: int | None = None) -> Any:
    """JSON-like data with every string (keys too) made printable, and cut to LIMIT characters: a
    copy, or VALUE itself when it prints as it is (a fleet's matrix of 40,000 cells is checked as
    JSON bytes, not walked)."""
    if isinstance(value, str):
        return printable(cut(value, limit))
    if isinstance(value, dict | list | tuple) and prints_as_is(value, limit):
        return value
    if isinstance(value, dict):
        return {printable_data(key, limit): printable_data(item, limit) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [printable_data(item, limit) for item in value]
    if isinstance(value, Encoded):  # a fleet's pairs: only those that may hold such text decoded
        return Encoded([printable_json(item, limit) for item in value.items], value.mapping, value.summaries)
    return value


def printable_report(report: dict[str, Any], limit: int | None = None) -> dict[str, Any]:
    """REPORT made printable for a writer that shows no facts (text, Markdown, JUnit): the facts a
    report may hold are left out, not walked (a fleet's are most of it)."""
    return printable_data({key: value for key, value in report.items() if key != "facts"}, limit)


def printable_json(item: bytes, limit: int | None = None) -> bytes:
    """JSON text with every string made printable (and cut to LIMIT); most of a fleet's pairs are
    already, as bytes."""
    if printable_bytes(item, limit):
        return item
    return orjson.dumps(printable_data(orjson.loads(item), limit))


def printable_bytes(item: bytes, limit: int | None = None) -> bool:
    """Whether JSON text holds only printable strings, none longer than LIMIT, checked as bytes:
    scans in C, each far faster than one character class."""
    printable_only = item.isascii() and b"\x7f" not in item and not UNPRINTABLE_ESCAPE.search(item)
    return printable_only and (limit is None or not may_hold_longer(item, limit))


def prints_as_is(value: Any, limit: int | None = None) -> bool:
    """Whether every string in VALUE (keys too) is printable and no longer than LIMIT, judged on its
    JSON; False when it is not plain JSON (a fleet's encoded pairs within, say), which is then walked."""
    try:
        return printable_bytes(orjson.dumps(value), limit)
    except TypeError:
        return False
