"""Xen (xend) relocation: the server is on, listens on the migration network, and admits the source."""

from __future__ import annotations

import re

from migdoctor.checkapi import Evidence, Outcome, Registry, Skip, failed, passed, warned
from migdoctor.judging.endpoints import dst_migration_addresses, migration_endpoints
from migdoctor.judging.facts import address_of, interface_addresses, setting
from migdoctor.judging.pair import Pair

registry = Registry(order=70)
XEND_CONFIG = "/etc/xen/xend-config.sxp"


def require_xend(pair: Pair) -> None:
    record = (pair.dst.get("config") or {}).get("xend_config") or {}
    if not record.get("present"):
        raise Skip(f"{pair.dst_label} has no {XEND_CONFIG}: not a xend host")


def sxp_line(pair: Pair, key: str, value: str) -> str:
    """Quoted as xend unquotes it: a lone backslash would eat the next character of a pattern."""
    quoted = value.replace("\\", "\\\\").replace("'", "\\'")
    return f"{pair.dst_label}:{XEND_CONFIG}: ({key} '{quoted}')"


@registry.check(
    "xen.relocation-server",
    "The xend relocation server is on and listens on the migration network",
    "high",
    needs=("dst.config.xend_config",),
    description=(
        "xend's relocation server is off (`xend-relocation-server`), or `xend-relocation-address` binds it "
        "off the migration network"
    ),
    rationale=(
        "Xen migrations go to xend's relocation port (8002): a server that is off refuses them, and one bound "
        "to the LAN address takes them over the LAN, as the SUSE forums thread's first answer explains (RHEL "
        "5 Virtualization Guide 19.4, 21.2)"
    ),
    fix=(
        "set `(xend-relocation-server yes)` and `(xend-relocation-address ADDRESS)` on the migration network "
        "in the destination's xend-config.sxp"
    ),
    scope="destination",
)
def relocation_server(pair: Pair) -> Outcome:
    require_xend(pair)
    expected = [a for _, a in dst_migration_addresses(pair)]
    server = setting(pair.dst, "xend_config", "xend-relocation-server", "no").lower()
    if server not in ("yes", "true", "1"):
        return failed(
            f"{pair.dst_label}'s xend relocation server is off: it refuses every migration",
            Evidence(pair.dst_label, "xend-relocation-server", server, "yes"),
            remediation=sxp_line(pair, "xend-relocation-server", "yes").replace("'yes'", "yes"),
        )
    address = setting(pair.dst, "xend_config", "xend-relocation-address", "")
    fix = sxp_line(pair, "xend-relocation-address", expected[0]) if expected else None
    if address == "":
        return warned(
            f"{pair.dst_label}'s xend listens for relocation on every address, not only the migration network",
            Evidence(pair.dst_label, "xend-relocation-address", "(empty: all)", expected),
            remediation=fix,
        )
    by_link = {link: a for link, a, _ in interface_addresses(pair.dst)}
    bound = by_link.get(address, address)  # xend also takes an interface name
    if bound not in by_link.values():
        return failed(
            f"{pair.dst_label}'s xend-relocation-address {address} is not assigned on {pair.dst_label}: "
            "xend cannot listen there",
            Evidence(pair.dst_label, "xend-relocation-address", address, expected),
            remediation=fix,
        )
    network = pair.intent.migration_network
    try:
        on_network = network is not None and address_of(bound) in network
    except ValueError:
        on_network = False
    if on_network:
        return passed(f"{pair.dst_label}'s xend relocation listens on {address}")
    return failed(
        f"{pair.dst_label}'s xend-relocation-address {address} is not on the migration network {network}",
        Evidence(pair.dst_label, "xend-relocation-address", address, expected),
        remediation=fix,
    )


@registry.check(
    "xen.hosts-allow",
    "The xend-relocation-hosts-allow patterns admit the source by name or migration address",
    "high",
    needs=("dst.config.xend_config", "src.links"),
    description=(
        "no `xend-relocation-hosts-allow` pattern admits the source by name or migration address; invalid "
        "regular expressions are named"
    ),
    rationale=(
        "After moving migrations to another interface the patterns must match the new names or addresses, as "
        "the SUSE forums thread warns, or xend refuses the relocation (RHEL 5 Virtualization Guide 19.4)"
    ),
    fix="add a `xend-relocation-hosts-allow` pattern that matches the source's name or migration address",
)
def hosts_allow(pair: Pair) -> Outcome:
    require_xend(pair)
    patterns = setting(pair.dst, "xend_config", "xend-relocation-hosts-allow", "").split()
    if not patterns:
        return passed(f"{pair.dst_label}'s xend-relocation-hosts-allow is empty: every host is admitted")
    compiled = []
    for pattern in patterns:
        try:
            compiled.append(re.compile(pattern))
        except re.error as exc:
            return failed(
                f"{pair.dst_label}'s xend-relocation-hosts-allow pattern {pattern!r} is not a valid regular expression: {exc}",
                Evidence(pair.dst_label, "xend-relocation-hosts-allow", patterns, "valid regular expressions"),
                remediation=f"{pair.dst_label}:{XEND_CONFIG}: fix or remove the pattern {pattern!r}",
            )
    # xend matches the connecting address and the name the destination resolves it to
    # (socket.getfqdn), never the source's own hostname: that names its LAN address as often as not.
    addresses = [a for _, a in migration_endpoints(pair)[0]]
    reverse = [item for item in pair.dst["resolution"].get("reverse_lookups", []) if item["address"] in addresses]
    candidates = addresses + sorted({name for item in reverse for name in item["names"]})
    admitted = [c for c in candidates if any(r.match(c) for r in compiled)]
    if admitted:
        return passed(f"{pair.dst_label} admits {pair.src_label} as {admitted[0]}")
    if not reverse:
        raise Skip(
            f"{pair.dst_label}: no reverse look-up of {', '.join(addresses)} collected, and xend matches that name too"
        )
    return failed(
        f"no xend-relocation-hosts-allow pattern on {pair.dst_label} matches {pair.src_label} ({', '.join(candidates)})",
        Evidence(pair.dst_label, "xend-relocation-hosts-allow", patterns, f"a pattern matching one of {candidates}"),
        remediation=sxp_line(
            pair, "xend-relocation-hosts-allow", " ".join([*patterns, "^" + re.escape(candidates[0]) + "$"])
        ),
    )
