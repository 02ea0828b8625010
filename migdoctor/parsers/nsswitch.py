"""The hosts: line of /etc/nsswitch.conf as glibc >= 2.33 reads it (nss/nss_database.c,
nss/nss_action_parse.c), checked against glibc 2.36 by experiment.

glibc's reader is stricter and odder than the man page suggests:
- '#' is not special: "hosts: files dns # local" asks the services "#" and "local" too;
- a last line without a trailing newline is ignored;
- the last hosts: line wins, the colon is optional, and "HOSTS:" is not hosts;
- a bad [STATUS=action] on any known database rejects the whole file, and every lookup
  fails: that is a ParseError here;
- with no hosts: line the default is "files dns".
"""

from __future__ import annotations

import re
from typing import Any

from migdoctor.parsers import ParseError
from migdoctor.parsers._ctext import CSPACE

DEFAULT_HOSTS = "files dns"
DATABASES = frozenset(
    {
        "aliases",
        "ethers",
        "group",
        "group_compat",
        "gshadow",
        "hosts",
        "initgroups",
        "netgroup",
        "networks",
        "passwd",
        "passwd_compat",
        "protocols",
        "publickey",
        "rpc",
        "services",
        "shadow",
        "shadow_compat",
    }
)
STATUSES = ("SUCCESS", "NOTFOUND", "UNAVAIL", "TRYAGAIN")
ACTIONS = ("return", "continue", "merge")

WS = f"[{CSPACE}]*"
DATABASE_LINE = re.compile(f"{WS}([^{CSPACE}:]+)[{CSPACE}:]*(.*)")
SOURCE = re.compile(f"{WS}([^{CSPACE}\\[]+){WS}")
CRITERION = re.compile(f"{WS}(!?)([^{CSPACE}=\\]]*){WS}={WS}([^{CSPACE}=\\]]*){WS}")


def _sources(spec: str) -> list[dict[str, Any]]:
    """Each source with the action for every status; ValueError where glibc sees bad syntax."""
    sources = []
    pos = 0
    while source := SOURCE.match(spec, pos):
        pos = source.end()
        actions = {status: "continue" for status in STATUSES} | {"SUCCESS": "return"}
        if spec.startswith("[", pos):
            pos += 1
            while True:  # at least one criterion: "[]" is an error too
                criterion = CRITERION.match(spec, pos)
                if not criterion or criterion[2].upper() not in STATUSES or (criterion[3].lower() not in ACTIONS):
                    raise ValueError(spec[source.start(1) :].strip())
                negate, status, action = criterion[1], criterion[2].upper(), criterion[3].lower()
                if negate:  # every status but this one
                    actions = dict.fromkeys(actions, action) | {status: actions[status]}
                else:
                    actions[status] = action
                pos = criterion.end()
                if spec.startswith("]", pos):
                    pos += 1
                    break
        sources.append({"source": source[1], "actions": actions})
    return sources


def parse_nsswitch_hosts(text: str, path: str = "/etc/nsswitch.conf") -> list[dict[str, Any]]:
    """The services getaddrinfo asks, in order, each as {"source": "files", "actions":
    {"SUCCESS": "return", "NOTFOUND": "continue", "UNAVAIL": "continue", "TRYAGAIN": "continue"}}
    (the action taken on each status; [NOTFOUND=return] changes one). [] means no service:
    every lookup fails."""
    hosts = _sources(DEFAULT_HOSTS)
    for number, line in enumerate(text.split("\n")[:-1], start=1):
        match = DATABASE_LINE.match(line)
        if not match or match[1] not in DATABASES:
            continue
        try:
            sources = _sources(match[2])
        except ValueError as exc:
            raise ParseError(
                path,
                number,
                f"bad [STATUS=action] in {match[1]}: '{exc}'; glibc rejects the whole file, so every lookup fails",
            ) from None
        if match[1] == "hosts":
            hosts = sources
    return hosts
