"""/etc/os-release (os-release(5)): NAME=value lines with shell quoting.

Hand-written rather than shlex: shlex keeps the backslash of \\$ and \\` inside double quotes,
where sh and systemd's env-file reader (which os-release(5) follows) drop it.
"""

from __future__ import annotations

import re

from migdoctor.parsers import ParseError

ASSIGNMENT = re.compile("([A-Za-z_][A-Za-z0-9_]*)=(.*)")
PART = re.compile(
    r"""'(?P<single>[^']*)'|"(?P<double>(?:[^"\\]|\\.)*)"|\\(?P<escaped>.)"""
    r"""|(?P<bare>[^'"\\ \t]+)|(?P<space>[ \t]+)""",
    re.S,
)
DOUBLE_QUOTED_ESCAPE = re.compile(r'\\([$`"\\])')


def _unquote(value: str) -> str:
    """The word sh would make of `value`; ValueError if it is not exactly one word."""
    word = []
    pos = 0
    while pos < len(value):
        part = PART.match(value, pos)
        if part is None:
            raise ValueError("unterminated quoting")
        if part["space"] is not None:
            raise ValueError("a value with spaces must be quoted")
        if part["double"] is not None:
            word.append(DOUBLE_QUOTED_ESCAPE.sub(r"\1", part["double"]))
        else:
            word.append(part["single"] or part["escaped"] or part["bare"] or "")
        pos = part.end()
    return "".join(word)


def parse_os_release(text: str, path: str = "/etc/os-release") -> dict[str, str]:
    """Variables by name; a later assignment wins, as in sh."""
    values: dict[str, str] = {}
    for number, line in enumerate(text.split("\n"), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        match = ASSIGNMENT.fullmatch(stripped)
        if not match:
            raise ParseError(path, number, "expecting NAME=value")
        try:
            values[match[1]] = _unquote(match[2])
        except ValueError as exc:
            raise ParseError(path, number, str(exc)) from None
    return values
