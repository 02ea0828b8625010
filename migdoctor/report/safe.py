"""Host data made safe to print: a hostname, config value or interface name is text a host chose,
and on a terminal an escape sequence in it would repaint the screen, a newline would forge a line
of the report. Control and format characters are shown as Python escapes (\\x1b, \\n, \\u202e);
rich markup is escaped where rich renders (rich.markup.escape)."""

from __future__ import annotations

import re
from typing import Any

import orjson

from migdoctor.report.encoded import Encoded

# In JSON text, an escape that can stand for a character that does not print (\n, \u001b; not \" or \\).
UNPRINTABLE_ESCAPE = re.compile(rb"\\[bfnrtu]")


def printable(text: str) -> str:
    """TEXT with every non-printable character shown as its escape, so it prints as one plain line."""
    if text.isprintable():
        return text
    return "".join(char if char.isprintable() else repr(char)[1:-1] for char in text)


def printable_data(value: Any) -> Any:
    """JSON-like data with every string (keys too) made printable: a copy, or VALUE itself when it
    prints as it is (a fleet's matrix of 40,000 cells is checked as JSON bytes, not walked)."""
    if isinstance(value, str):
        return printable(value)
    if isinstance(value, dict | list | tuple) and prints_as_is(value):
        return value
    if isinstance(value, dict):
        return {printable_data(key): printable_data(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [printable_data(item) for item in value]
    if isinstance(value, Encoded):  # a fleet's pairs: only those that may hold such text decoded
        return Encoded([printable_json(item) for item in value.items], value.mapping, value.summaries)
    return value


def printable_json(item: bytes) -> bytes:
    """JSON text with every string made printable; most of a fleet's pairs are already, as bytes."""
    if printable_bytes(item):
        return item
    return orjson.dumps(printable_data(orjson.loads(item)))


def printable_bytes(item: bytes) -> bool:
    """Whether JSON text holds only printable strings, checked as bytes: three scans in C, each far
    faster than one character class."""
    return item.isascii() and b"\x7f" not in item and not UNPRINTABLE_ESCAPE.search(item)


def prints_as_is(value: Any) -> bool:
    """Whether every string in VALUE (keys too) is printable, judged on its JSON; False when it is
    not plain JSON (a fleet's encoded pairs within, say), which is then walked."""
    try:
        return printable_bytes(orjson.dumps(value))
    except TypeError:
        return False
