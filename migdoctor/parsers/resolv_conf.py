"""/etc/resolv.conf as glibc's stub resolver reads it (resolv/res_init.c, glibc >= 2.26).

What glibc does that hand-rolled readers get wrong: only a ';' or '#' in the *first column*
starts a comment, and a keyword must start the line, so an indented line is ignored; a
trailing "# comment" on a search line becomes two more search domains; the last search or
domain line wins; options match by prefix and out-of-range numbers are clamped; only the
first three valid nameservers are queried; with none, glibc queries 127.0.0.1.
"""

from __future__ import annotations

import re
import socket
from typing import Any

from migdoctor.parsers._ctext import CSPACE

MAXNS = 3
DEFAULT_NAMESERVER = "127.0.0.1"
# name -> (default, maximum): RES_TIMEOUT/RES_MAXRETRANS, RES_DFLRETRY/RES_MAXRETRY, RES_MAXNDOTS.
NUMERIC_OPTIONS = {"timeout": (5, 30), "attempts": (2, 5), "ndots": (1, 15)}
# Prefixes in glibc's order (single-request-reopen before single-request), with canonical names.
FLAG_OPTIONS = (
    ("rotate", "rotate"),
    ("edns0", "edns0"),
    ("single-request-reopen", "single-request-reopen"),
    ("single-request", "single-request"),
    ("no_tld_query", "no-tld-query"),
    ("no-tld-query", "no-tld-query"),
    ("no-reload", "no-reload"),
    ("use-vc", "use-vc"),
    ("trust-ad", "trust-ad"),
)
KEYWORD = re.compile("(domain|search|nameserver|options)[ \t]+(.*)")
WORDS = re.compile("[^ \t]+")


def _nameserver(word: str) -> str | None:
    """The address glibc would query for this word, normalised, or None if it skips the line."""
    if not any(c in CSPACE for c in word):  # __inet_aton_exact: classic forms, nothing after
        try:
            return socket.inet_ntoa(socket.inet_aton(word))
        except (OSError, ValueError):
            pass
    address, percent, scope = word.partition("%")
    try:
        packed = socket.inet_pton(socket.AF_INET6, address)
    except (OSError, ValueError):
        return None
    return socket.inet_ntop(socket.AF_INET6, packed) + percent + scope


def _atoi(text: str) -> int:
    match = re.match(f"[{CSPACE}]*([-+]?[0-9]+)", text)
    return int(match[1]) if match else 0


def _set_options(options: dict[str, Any], words: list[str]) -> None:
    for word in words:
        name, colon, number = word.partition(":")
        if colon and name in NUMERIC_OPTIONS:
            options[name] = min(_atoi(number), NUMERIC_OPTIONS[name][1])
            continue
        for prefix, flag in FLAG_OPTIONS:
            if word.startswith(prefix):
                options[flag] = True
                break


def parse_resolv_conf(text: str, path: str = "/etc/resolv.conf") -> dict[str, Any]:
    """{"nameservers": the ones glibc queries, in order; "nameservers_ignored": the words of
    nameserver lines it skips (past the third, or not an address); "search": [] means glibc
    takes the domain of the host name; "options": numbers plus the flags set}. glibc reports
    no errors in this file, so `path` is for a uniform interface only."""
    used: list[str] = []
    ignored: list[str] = []
    search: list[str] = []
    options: dict[str, Any] = {name: default for name, (default, _) in NUMERIC_OPTIONS.items()}
    for line in text.split("\n"):
        match = KEYWORD.match(line)
        words = WORDS.findall(match[2]) if match else []
        if not match or not words:
            continue
        if match[1] == "domain":
            search = words[:1]
        elif match[1] == "search":
            search = words
        elif match[1] == "options":
            _set_options(options, words)
        elif (address := _nameserver(words[0])) is not None and len(used) < MAXNS:
            used.append(address)
        else:
            ignored.append(words[0])
    return {
        "nameservers": used or [DEFAULT_NAMESERVER],
        "nameservers_ignored": ignored,
        "search": search,
        "options": options,
    }
