"""/etc/xen/xl.conf as libxlu reads it (libxlu_cfg_l.l, libxlu_cfg_y.y and libxlu_cfg.c).

Unlike libvirt: the last assignment wins, `key += value` appends to a string or list, comments
may sit inside lists, strings take backslash escapes, and keys are lower case with dots
(vif.default.bridge). Every atom is a string, numbers included: xl converts with strtol() only
when a setting is read as a number, so "1", 1 and 0x1 stay as written.
"""

from __future__ import annotations

import re

from migdoctor.parsers._assignments import Dialect, Value, parse_assignments

ESCAPES = {'"': '"', "'": "'", "\\": "\\", "a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v"}


def _escape(match: re.Match[str]) -> str:
    # libxlu's \x and octal escapes are broken (they fail or drop the character): reject them.
    if match[1] not in ESCAPES:
        raise ValueError(f"invalid escape \\{match[1]} in quoted string")
    return ESCAPES[match[1]]


def _dequote(match: re.Match[str]) -> Value:
    return re.sub(r"\\(.)", _escape, match["body"])


XL = Dialect(
    key=re.compile("[a-z][._0-9a-z]*"),
    assign=re.compile(r"\+?="),
    atoms=(
        (re.compile(r"'(?P<body>(?:[^'\\\n]|\\.)*)'"), _dequote),
        (re.compile(r'"(?P<body>(?:[^"\\\n]|\\.)*)"'), _dequote),
        (re.compile("[0-9][0-9a-fx]*"), lambda match: match.group()),
    ),
    eol="\n",
    comments_in_lists=True,
    first_wins=False,
)


def parse_xl_conf(text: str, path: str) -> dict[str, Value]:
    """Settings as xl sees them: strings and (nested) lists of strings."""
    return parse_assignments(text, path, XL)
