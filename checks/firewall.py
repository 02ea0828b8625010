"""Whether the destination's packet filter admits the source's connections: the migration port
range on the migration link, and the libvirt remote port."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from migdoctor.checkapi import Evidence, Outcome, Registry, Skip, failed, passed, warned
from migdoctor.judging.endpoints import migration_endpoints
from migdoctor.judging.facts import (
    address_of,
    link_of_address,
    name_lookup,
    remote_endpoint,
    route_to,
    valid_port_range,
)
from migdoctor.judging.pair import Pair
from migdoctor.netfilter import (
    Decision,
    Packet,
    evaluate_port_range,
    iptables_evaluator,
    nft_evaluator,
)

registry = Registry(order=60)


COMPILED: dict[int, tuple[Any, Callable[[Packet], Decision]]] = {}  # by id of the (read-only) facts


def evaluator(firewall: dict[str, Any]) -> Callable[[Packet], Decision]:
    """Read the ruleset once per host, however many pairs it is the destination of (checks see
    read-only facts; the entry holds them, so their id is not reused while it is cached)."""
    cached = COMPILED.get(id(firewall))
    if cached is not None and cached[0] is firewall:
        return cached[1]
    if firewall["backend"] == "nftables":
        compiled = nft_evaluator(firewall["nftables"])
    else:
        compiled = iptables_evaluator(firewall["iptables_save"])
    if len(COMPILED) >= 256:
        COMPILED.clear()
    COMPILED[id(firewall)] = (firewall, compiled)
    return compiled


def span(low: int, high: int) -> str:
    return f"{low}-{high}" if low != high else str(low)


def inbound(saddr: str, daddr: str, iifname: str, dport: int) -> Packet:
    """A new connection from SADDR, of the family its addresses are (a migration network may be IPv6)."""
    return Packet(saddr, daddr, iifname, dport, "ip6" if address_of(saddr).version == 6 else "ip")


def accept_rule(firewall: dict[str, Any], packet: Packet, first: int, last: int) -> str:
    """The rule admitting PACKET's source to FIRST-LAST, written for the tool that manages this host's filter."""
    if firewall["backend"] == "iptables":
        tool = "ip6tables" if packet.family == "ip6" else "iptables"
        ports = f"{first}:{last}" if first != last else str(first)
        return f"{tool} -I INPUT -i {packet.iifname} -s {packet.saddr} -p tcp --dport {ports} -j ACCEPT"
    return (
        f'nft insert rule inet filter input iifname "{packet.iifname}" '
        f"{packet.family} saddr {packet.saddr} tcp dport {span(first, last)} accept"
    )


def judge_ports(pair: Pair, packet: Packet, first: int, last: int, what: str) -> Outcome:
    """Name every sub-range that is not accepted, with the rule that decides it."""
    spans = evaluate_port_range(evaluator(pair.dst["firewall"]), packet, first, last)
    where = f"TCP from {packet.saddr} to {packet.daddr} on {packet.iifname}"
    evidence = [
        Evidence(pair.dst_label, f"{what} {span(low, high)}", f"{d.verdict}: {d.rule or d.reason}", "accept")
        for low, high, d in spans
    ]
    blocked = [(low, high, d) for low, high, d in spans if d.verdict in ("drop", "reject")]
    unknown = [(low, high, d) for low, high, d in spans if d.verdict == "unknown"]
    if blocked:
        names = ", ".join(f"{span(low, high)} ({d.verdict})" for low, high, d in blocked)
        return failed(
            f"{pair.dst_label}'s firewall blocks {what} {names} of {span(first, last)} for {where}",
            *evidence,
            remediation=f"{pair.dst_label}: {accept_rule(pair.dst['firewall'], packet, first, last)} "
            f"(it must come before {blocked[0][2].rule or 'the policy'})",
        )
    if unknown:
        low, high, decision = unknown[0]
        return warned(
            f"cannot tell whether {pair.dst_label} accepts {what} {span(low, high)}: {decision.reason}", *evidence
        )
    return passed(f"{pair.dst_label}'s firewall accepts {what} {span(first, last)} for {where}", *evidence)


@registry.check(
    "firewall.migration-ports",
    "The destination's firewall accepts the whole migration port range from the source on the migration link",
    "critical",
    needs=("dst.firewall", "src.links", "dst.links"),
    description=(
        "the destination's nftables (or iptables-save) ruleset does not accept TCP from the source on the "
        "link it arrives by for every port of the migration range; blocked sub-ranges and the deciding rule "
        "are named, and an expression migdoctor does not understand is a warning, never a pass"
    ),
    rationale=(
        "A firewall that blocks 49152-49215 fails the migration with `unable to connect to server at "
        "'host:49152': No route to host` (firewalld's REJECT), and one that passes part of the range fails "
        "only under concurrency (xcat2/xcat-core 720; firewalld/firewalld 1452)"
    ),
    fix=(
        "accept TCP from the source to the whole migration port range on the migration link, before the rule "
        "that drops or rejects it (the finding gives the nft rule)"
    ),
)
def migration_ports(pair: Pair) -> Outcome:
    src_links, dst_links = migration_endpoints(pair)
    first, last = valid_port_range(pair.dst)
    packet = inbound(src_links[0][1], dst_links[0][1], dst_links[0][0], first)
    return judge_ports(pair, packet, first, last, "migration ports")


@registry.check(
    "firewall.libvirt-ports",
    "The destination's firewall accepts the source's libvirt connection (16509/16514 or ssh)",
    "high",
    needs=("dst.firewall", "src.route_lookups", "dst.links"),
    description=(
        "the destination's firewall does not accept the source's libvirt connection (16509 for tcp, 16514 for "
        "tls, or sshd's port for ssh) on the link it arrives by"
    ),
    rationale=(
        "The migration never starts when the peer connection is filtered, and with `drop` rules it hangs "
        "until TCP gives up instead of failing (apache/cloudstack 9965)"
    ),
    fix="accept TCP from the source to libvirt's port (16509, 16514 or ssh) on the link it arrives by",
)
def libvirt_ports(pair: Pair) -> Outcome:
    uri = pair.intent.dst_libvirt_uri
    if not uri:
        raise Skip(f"no libvirt URI for {pair.dst_label} (set libvirt_uri in the inventory)")
    transport, port, host = remote_endpoint(uri)
    lookup = name_lookup(pair.src, host)
    addresses = (lookup or {}).get("getaddrinfo", {}).get("addresses") or []
    if not addresses:
        raise Skip(f"{host} (from {uri}) was not resolved on {pair.src_label}")
    route = route_to(pair.src, addresses[0])
    arrival = link_of_address(pair.dst, addresses[0])
    if not route or route.get("error") or not arrival:
        raise Skip(f"{addresses[0]} is not reachable from {pair.src_label} or not an address of {pair.dst_label}")
    packet = inbound(route["source"], addresses[0], arrival, port)
    return judge_ports(pair, packet, port, port, f"libvirt {transport} port")
