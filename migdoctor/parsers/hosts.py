"""/etc/hosts and /etc/host.conf as glibc's files backend reads them (nss_files/files-hosts.c,
resolv/res_hconf.c).

glibc never rejects /etc/hosts: a line whose address inet_pton() refuses (10.0.0.300, 127.1,
010.0.0.1, fe80::1%eth0) is silently skipped. Entries keep such lines with "valid": False so a
check can point at them. '#' starts a comment anywhere on a line, even inside a name.
"""

from __future__ import annotations

import re
import socket
from typing import Any

from migdoctor.parsers._ctext import csplit


def _family(address: str) -> int | None:
    """The address family glibc parses the address as (IPv4 tried first), or None."""
    for family in (socket.AF_INET, socket.AF_INET6):
        try:
            socket.inet_pton(family, address)
        except (OSError, ValueError):
            continue
        return family
    return None


def _fold(name: str) -> bytes:
    """strcasecmp() folds ASCII only."""
    return name.encode("utf-8", "surrogateescape").lower()


def parse_hosts(text: str, path: str = "/etc/hosts") -> list[dict[str, Any]]:
    """One entry per non-blank line: {"address", "names", "line", "valid"}. `path` is for a uniform
    interface only: glibc reports no errors in this file, so neither does this parser."""
    entries = []
    for number, line in enumerate(text.split("\n"), start=1):
        fields = csplit(line.split("#", 1)[0])
        if fields:
            entries.append(
                {
                    "address": fields[0],
                    "names": fields[1:],
                    "line": number,
                    "valid": _family(fields[0]) is not None,
                }
            )
    return entries


def hosts_lookup(entries: list[dict[str, Any]], name: str, multi: bool = True) -> list[str]:
    """Addresses the files backend gives getaddrinfo(name), in file order: every matching line
    with `multi on` in /etc/host.conf (Debian's and Red Hat's default), else only the first
    (glibc's default). getaddrinfo then sorts them (RFC 6724), so its order may differ."""
    wanted = _fold(name)
    found = []
    for entry in entries:
        family = _family(entry["address"])
        if family is not None and wanted in map(_fold, entry["names"]):
            found.append(socket.inet_ntop(family, socket.inet_pton(family, entry["address"])))
    return found if multi else found[:1]


def parse_host_conf(text: str, path: str = "/etc/host.conf") -> dict[str, bool]:
    """{"multi": bool}: whether /etc/hosts lookups return all matching lines (hosts_lookup's
    `multi`). glibc only warns about bad lines, so `path` is for a uniform interface only."""
    multi = False
    for line in text.split("\n"):
        words = csplit(line.split("#", 1)[0])
        if len(words) >= 2 and words[0].lower() == "multi":
            if re.match("on", words[1], re.I):
                multi = True
            elif re.match("off", words[1], re.I):
                multi = False
    return {"multi": multi}
