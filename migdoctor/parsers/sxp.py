r"""S-expressions as xend reads them (tools/python/xen/xend/sxp.py), and xend-config.sxp.

xend's unquoting has a trap that decides who may migrate to a host: an escape it does not know
keeps the backslash and *drops the next character*. Written as in Xen's example,
'^.*\\.example\\.org$' becomes the regex ^.*\.example\.org$; written with single backslashes,
'^.*\.example\.org$' becomes ^.*\example\org$, which matches no host in example.org.
"""

from __future__ import annotations

import re
from typing import Any

from migdoctor.parsers import ParseError

SPACE = " \t\n\v\f\r"  # xend's in_space_class
TOKEN = re.compile(
    rf"(?P<space>[{SPACE}]+)|(?P<comment>#[^\n]*)|(?P<open>\()|(?P<close>\))"
    rf"|(?P<quote>['\"])|(?P<atom>[!-~][^{{}}()<>\[\]!;#{SPACE}]*)"
)
ESCAPE = re.compile(r"\\(?:x(?P<hex>[0-9A-Fa-f]{2})?|(?P<octal>[0-7]{1,3})|(?P<char>.))", re.S)
ESCAPES = {"a": "\a", "b": "\b", "t": "\t", "n": "\n", "v": "\v", "f": "\f", "r": "\r", "\\": "\\", "'": "'", '"': '"'}


def _xend_hex_digit(digit: str) -> int:
    # sic: xend computes ord(c) - ord('a') (or 'A') for letters, so a-f count as 0-5.
    return int(digit) if digit.isdigit() else ord(digit.lower()) - ord("a")


def _unescape(body: str) -> str:
    def one(match: re.Match[str]) -> str:
        if match["char"] is not None:
            return ESCAPES.get(match["char"], "\\")
        if match["octal"] is not None:
            code = int(match["octal"], 8)
            if code > 0xFF:
                raise ValueError(f"invalid octal escape: out of range {match['octal']}")
            return chr(code)
        if match["hex"] is None:
            raise ValueError("invalid hex escape: \\x needs two hex digits")
        return chr(_xend_hex_digit(match["hex"][0]) * 16 + _xend_hex_digit(match["hex"][1]))

    return ESCAPE.sub(one, body)


def parse_sxp(text: str, path: str) -> list[Any]:
    """Every top-level value: atoms as str, lists as (nested) lists."""

    def fail(pos: int, message: str) -> ParseError:
        return ParseError(path, text.count("\n", 0, pos) + 1, message)

    top: list[Any] = []
    current = top
    open_lists: list[tuple[list[Any], int]] = []
    pos = 0
    while pos < len(text):
        token = TOKEN.match(text, pos)
        if token is None:
            raise fail(pos, f"invalid character: code {ord(text[pos])}")
        kind = token.lastgroup
        if kind == "open":
            open_lists.append((current, pos))
            current.append([])
            current = current[-1]
        elif kind == "close":
            if not open_lists:
                raise fail(pos, "syntax error: )")
            current = open_lists.pop()[0]
        elif kind == "atom":
            current.append(token.group())
        elif kind == "quote":
            delim = token.group()
            string = re.compile(rf"((?:[^\\{delim}]|\\.)*){delim}", re.S).match(text, token.end())
            if string is None:
                raise fail(pos, "unexpected EOF in string")
            try:
                current.append(_unescape(string[1]))
            except ValueError as exc:
                raise fail(pos, str(exc)) from None
            pos = string.end()
            continue
        pos = token.end()
    if open_lists:
        raise fail(open_lists[-1][1], "unexpected EOF: this ( is never closed")
    return top


def parse_xend_config(text: str, path: str) -> dict[str, str | list[Any]]:
    """Each top-level (key value) as key -> value: a lone atom as str, anything else as the list
    of values after the key ([] for a bare (key)). The first entry for a key wins, as with xend's
    sxp.child_value(); entries that are not (key ...) are ignored, as xend ignores them."""
    config: dict[str, str | list[Any]] = {}
    for entry in parse_sxp(text, path):
        if isinstance(entry, list) and entry and isinstance(entry[0], str):
            values = entry[1:]
            lone_atom = len(values) == 1 and isinstance(values[0], str)
            config.setdefault(entry[0], values[0] if lone_atom else values)
    return config
