"""The collecting layer: one JSON-serialisable record of what a host has.

Checks never touch a host; they judge these records. Every part is collected independently, and
whatever could not be collected is listed under `missing` with the reason, never guessed.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Any

from migdoctor import __version__
from migdoctor.facts.gaps import Gaps

SCHEMA_VERSION = "2"
OLD_SCHEMA_VERSIONS = ("1",)  # still judged: what they lack is a SKIP naming it (facts-1.schema.json)
EPHEMERAL_PORTS = "/proc/sys/net/ipv4/ip_local_port_range"
RESERVED_PORTS = "/proc/sys/net/ipv4/ip_local_reserved_ports"


def ephemeral_ports() -> list[int]:
    """The kernel's ephemeral range: a migration port inside it can be taken by any client socket."""
    with open(EPHEMERAL_PORTS, encoding="ascii") as handle:
        return [int(part) for part in handle.read().split()]


def reserved_ports() -> list[list[int]]:
    """Ports taken out of the ephemeral range ("49152-49215,5900"), as [first, last] pairs."""
    with open(RESERVED_PORTS, encoding="ascii") as handle:
        text = handle.read().strip()
    ranges = []
    for part in filter(None, text.split(",")):
        first, _, last = part.partition("-")
        ranges.append([int(first), int(last or first)])
    return ranges


def collect(
    route_to: Sequence[str] = (), resolve: Sequence[str] = (), reverse: Sequence[str] = (), lookups_only: bool = False
) -> dict[str, Any]:
    """Collect this host's facts, with the look-ups the caller asks for. Every address a name
    resolves to also gets a route look-up: that is the route the migration stream would take.
    `lookups_only` returns just the look-ups (and what failed): a second, cheaper round."""
    from migdoctor.facts.network import collect_network
    from migdoctor.facts.resolution import collect_resolution

    started = time.monotonic()
    gaps = Gaps()
    resolution = collect_resolution(list(resolve), list(reverse), gaps)
    resolved = [a for lookup in resolution["lookups"] for a in lookup["getaddrinfo"]["addresses"]]
    destinations = list(dict.fromkeys([*route_to, *resolved]))
    network = gaps.attempt("network", lambda: collect_network(destinations, gaps, lookups_only))
    network = network or {"links": None, "routes": None, "route_lookups": None}
    if lookups_only:
        return {"route_lookups": network["route_lookups"], "resolution": resolution, "missing": gaps.entries}
    from migdoctor.facts.config import collect_config
    from migdoctor.facts.firewall import NOT_ROOT, collect_firewall
    from migdoctor.facts.identity import collect_identity
    from migdoctor.facts.listeners import collect_listeners
    from migdoctor.facts.tls import collect_tls

    record: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "tool_version": __version__,
        "collected_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),  # noqa: UP017 - Python 3.9
        "identity": collect_identity(gaps),
        **network,
        "resolution": resolution,
    }
    record["listeners"] = gaps.attempt("listeners", collect_listeners)
    if os.geteuid() != 0:
        gaps.add("socket_owners", f"the processes owning other users' sockets: {NOT_ROOT}")
    record["firewall"] = collect_firewall(gaps)
    record["sysctl"] = {
        "ip_local_port_range": gaps.attempt("ip_local_port_range", ephemeral_ports),
        "ip_local_reserved_ports": gaps.attempt("ip_local_reserved_ports", reserved_ports),
    }
    record["config"] = collect_config(gaps)
    record["tls"] = gaps.attempt("tls", lambda: collect_tls(record["config"]))
    record["missing"] = gaps.entries
    record["collection_seconds"] = round(time.monotonic() - started, 3)
    return record
