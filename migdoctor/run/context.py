"""Who ran a check, from where, with which command line and for which change ticket, and the
risks accepted with --ignore ID=REASON: what a report for a change request must say beside its
findings."""

from __future__ import annotations

import getpass
import os
import shlex
import socket
import sys
from typing import Any


def accepted_risks(values: list[str] | None) -> dict[str, str | None]:
    """--ignore as given, by check id or area: `ID=REASON` is one accepted risk with its reason
    (the reason may hold commas); without `=`, a value is one id or several comma-separated (as a
    CI variable holds a list). A blank reason is none; an id named twice keeps the reason given."""
    accepted: dict[str, str | None] = {}
    for value in values or []:
        if "=" in value:
            name, reason = (part.strip() for part in value.split("=", 1))
            if not name:
                raise ValueError(f"--ignore {value!r}: names no check before '=' (ID=REASON)")
            accepted[name] = reason or accepted.get(name)
            continue
        for name in filter(None, (part.strip() for part in value.split(","))):
            accepted.setdefault(name, None)
    return accepted


def user_name() -> str:
    """The login name, or the uid when the account has no name (a container's)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return f"uid {os.getuid()}"


def run_by(change_ref: str | None, argv: list[str] | None = None) -> dict[str, Any]:
    """The report's record of its run: user, host and the command line as a shell would take it
    back (shlex.join; no secret is passed on migdoctor's command line)."""
    words = list(sys.argv if argv is None else argv)
    if words:
        words[0] = os.path.basename(words[0])  # the program, not where this machine installed it
    return {
        "user": user_name(),
        "host": socket.gethostname(),
        "command": shlex.join(words),
        "change_ref": change_ref,
    }
