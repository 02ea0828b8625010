"""The link stack under an addressed link (br-mig on bond0.100 on bond0 on eno1+eno2): which
devices lie below it, what one migration stream can get through it, and what is degraded.

Virtual devices report no speed of their own (a bridge or VLAN says nothing, a bond the sum of its
members), so the rate of a stream is found at the bottom of the stack: one member of a load-sharing
bond (a TCP stream hashes onto one), the active member of an active-backup bond, the uplink of a
bridge, the parent of a VLAN; shaping at any level caps it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from migdoctor.judging.facts import effective_rate_mbps, link_named, read_only_memo

UP_STATES = {"UP", "UNKNOWN"}
GUEST_PORT_KINDS = {"tun", "other:tun"}  # guests' vnetN taps on a bridge are not its uplink
STRIPING_MODES = {"balance-rr"}  # round-robin sends the packets of one stream over every member


@dataclass(frozen=True)
class StreamRate:
    """What one stream gets through a stack, the devices it crosses, and what is degraded there."""

    mbps: int | None
    path: tuple[str, ...] = ()
    degraded: tuple[str, ...] = ()

    def describe(self) -> str:
        return " > ".join(self.path)


def lower_links(facts: dict[str, Any], link: dict[str, Any]) -> list[dict[str, Any]]:
    """The devices directly below LINK: bridge ports and bond members, or a VLAN's parent."""
    names = link.get("members") or ([link["parent"]] if link.get("parent") else [])
    return [lower for name in names if (lower := link_named(facts, name)) is not None]


def is_up(link: dict[str, Any]) -> bool:
    member = link.get("bond_member") or {}
    return link["state"] in UP_STATES and link["admin_up"] and member.get("mii_status", "up") == "up"


def shaping_mbps(link: dict[str, Any]) -> int | None:
    rate = (link.get("qdisc") or {}).get("rate_bps")
    return rate // 1_000_000 if rate else None


def lowest(*rates: int | None) -> int | None:
    known = [rate for rate in rates if rate is not None]
    return min(known) if known else None


def bond_carriers(facts: dict[str, Any], bond: dict[str, Any]) -> tuple[list[dict[str, Any]], list[str]]:
    """The members that carry a bond's traffic, and a sentence for each member that does not."""
    info = bond.get("bond") or {}
    mode, aggregator = info.get("mode"), info.get("active_aggregator")
    carriers, degraded = [], []
    for member in lower_links(facts, bond):
        state = (member.get("bond_member") or {}).get("mii_status") or member["state"]
        own_aggregator = (member.get("bond_member") or {}).get("aggregator_id")
        if not is_up(member):
            degraded.append(f"{bond['name']} member {member['name']} is {state}")
        elif mode == "802.3ad" and aggregator is not None and own_aggregator not in (None, aggregator):
            degraded.append(
                f"{bond['name']} member {member['name']} is up but outside the active 802.3ad aggregator "
                f"{aggregator} (it is in {own_aggregator}): LACP did not bundle it with the switch"
            )
        elif mode != "active-backup" or member["name"] == info.get("active_member"):
            carriers.append(member)
    return carriers, degraded


def stream_rate(facts: dict[str, Any], link: dict[str, Any], depth: int = 0) -> StreamRate:
    """What one migration stream can get through LINK and everything below it."""
    lower = lower_links(facts, link) if depth < 8 else []
    if link["kind"] == "bond":
        carriers, degraded = bond_carriers(facts, link)
        through = [stream_rate(facts, member, depth + 1) for member in carriers]
        rates = [item.mbps for item in through if item.mbps is not None]
        mode = (link.get("bond") or {}).get("mode") or "unknown mode"
        # A hashed stream may land on any carrying member: the slowest is what it can count on.
        rate = (sum(rates) if mode in STRIPING_MODES else min(rates)) if rates else None
        members = ", ".join(item.describe() for item in through) or "no member up"
        how = "striped over" if mode in STRIPING_MODES else "one stream rides one of" if len(through) > 1 else "on"
        degraded += [d for b in through for d in b.degraded]
        return StreamRate(
            lowest(rate, shaping_mbps(link)), (f"{link['name']} (bond {mode}: {how} {members})",), tuple(degraded)
        )
    if lower:
        if link["kind"] == "bridge":  # the uplink: the fastest port that is up, guests' taps aside
            lower = [port for port in lower if port["kind"] not in GUEST_PORT_KINDS and is_up(port)] or lower
        below = max((stream_rate(facts, item, depth + 1) for item in lower), key=lambda item: item.mbps or 0)
        label = f"vlan {link['vlan']['id']}" if link.get("vlan") else link["kind"]
        return StreamRate(
            lowest(below.mbps, shaping_mbps(link)), (f"{link['name']} ({label})", *below.path), below.degraded
        )
    rate = effective_rate_mbps(link)
    return StreamRate(rate, (f"{link['name']} ({rate} Mb/s)" if rate else link["name"],))


def stack_mtus(facts: dict[str, Any], link: dict[str, Any], depth: int = 0) -> list[tuple[str, int | None]]:
    """(device, MTU) for LINK and every device below it, top first."""
    below = lower_links(facts, link) if depth < 8 else []
    return [(link["name"], link["mtu"]), *(item for lower in below for item in stack_mtus(facts, lower, depth + 1))]


@read_only_memo
def named_stream_rate(facts: dict[str, Any], name: str | None) -> StreamRate | None:
    """stream_rate through the link NAME (None: no such link), once per host in a fleet."""
    link = link_named(facts, name)
    return stream_rate(facts, link) if link else None


@read_only_memo
def named_stack_mtus(facts: dict[str, Any], name: str) -> tuple[tuple[str, int | None], ...]:
    """stack_mtus of the link NAME (empty: no such link), once per host in a fleet."""
    link = link_named(facts, name)
    return tuple(stack_mtus(facts, link)) if link else ()


def link_rate(facts: dict[str, Any], name: str | None) -> int | None:
    """What one stream gets through the link NAME and its stack (None: unknown, or no such link)."""
    rate = named_stream_rate(facts, name)
    return rate.mbps if rate else None
