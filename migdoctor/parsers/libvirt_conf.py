"""libvirt's own config syntax (qemu.conf, libvirtd.conf), as src/util/virconf.c reads it.

virconf differs from what the files' comments suggest in two ways worth knowing:
- virConfGetValue() returns the *first* entry with a name, so a later duplicate is ignored;
- lists allow newlines but no comments, so a commented-out item inside a list makes the whole
  file fail to load (libvirtd then refuses to start).
Strings have no escapes, only triple-quoted ones span lines; numbers are signed decimal integers.
"""

from __future__ import annotations

import re
from typing import Any

from migdoctor.parsers._assignments import Dialect, Value, parse_assignments

REDACTED = "<redacted>"
SECRET_KEY_PARTS = ("password", "passwd", "secret")


def _closed_triple(match: re.Match[str]) -> Value:
    if not match["close"]:
        raise ValueError("unterminated string")
    return match["body"]


def _number(match: re.Match[str]) -> Value:
    if match.group() in ("-", "+"):
        raise ValueError("unterminated number")
    return int(match.group())


LIBVIRT = Dialect(
    key=re.compile("[A-Za-z][A-Za-z0-9_]*"),
    assign=re.compile("="),
    atoms=(
        (re.compile('"""(?P<body>.*?)(?P<close>"""|\\Z)', re.S), _closed_triple),
        (re.compile("'(?P<body>[^'\r\n]*)'"), lambda match: match["body"]),
        (re.compile('"(?P<body>[^"\r\n]*)"'), lambda match: match["body"]),
        (re.compile("[-+][0-9]*|[0-9]+"), _number),
    ),
    eol="\r\n",
    comments_in_lists=False,
    first_wins=True,
)


def parse_libvirt_conf(text: str, path: str) -> dict[str, Value]:
    """Settings as libvirt sees them: the first assignment of a name wins."""
    return parse_assignments(text, path, LIBVIRT)


def redact_secrets(values: dict[str, Any]) -> dict[str, Any]:
    """Replace values of keys that name a password or secret (vnc_password, vncpasswd,
    *_tls_x509_secret_uuid...) so they never reach a report; other values pass unchanged."""
    return {
        key: REDACTED if any(part in key.lower() for part in SECRET_KEY_PARTS) else value
        for key, value in values.items()
    }
