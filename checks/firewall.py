"""Whether the destination's packet filter admits the source's connections: the migration port
range on the migration link, and the libvirt remote port."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from migdoctor.checkapi import Evidence, Outcome, Registry, Skip, Status, failed, passed, warned
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
from migdoctor.netfilter import Decision, Packet, evaluate_port_range
from migdoctor.netfilter.engine import Evaluator
from migdoctor.netfilter.firewalld import is_firewalld, permanent, runtime_zone
from migdoctor.netfilter.host import host_evaluator, lacking, upgraded

registry = Registry(order=60)

# what schema-valid but malformed firewall facts raise while compiled or walked: a WARN naming them
MALFORMED = (ValueError, TypeError, KeyError, AttributeError, IndexError)
COMPILED: dict[int, tuple[Any, Evaluator]] = {}  # by id of the (read-only) facts


def evaluator(firewall: dict[str, Any]) -> Evaluator:
    """Read the rulesets once per host, however many pairs it is the destination of (checks see
    read-only facts; the entry holds them, so their id is not reused while it is cached)."""
    cached = COMPILED.get(id(firewall))
    if cached is not None and cached[0] is firewall:
        return cached[1]
    compiled = host_evaluator(upgraded(firewall))
    if len(COMPILED) >= 256:
        COMPILED.clear()
    COMPILED[id(firewall)] = (firewall, compiled)
    return compiled


def span(low: int, high: int, sep: str = "-") -> str:
    return f"{low}{sep}{high}" if low != high else str(low)


def inbound(saddr: str, daddr: str, iifname: str, dport: int) -> Packet:
    """A new connection from SADDR, of the family its addresses are (a migration network may be IPv6)."""
    return Packet(saddr, daddr, iifname, dport, "ip6" if address_of(saddr).version == 6 else "ip")


@dataclass(frozen=True)
class Ports:
    """The question asked of one destination: PACKET's source to FIRST-LAST, called WHAT."""

    pair: Pair
    packet: Packet
    first: int
    last: int
    what: str

    @property
    def firewall(self) -> dict[str, Any]:
        return upgraded(self.pair.dst["firewall"])

    @property
    def where(self) -> str:
        return f"TCP from {self.packet.saddr} to {self.packet.daddr} on {self.packet.iifname}"

    def manager(self, decision: Decision) -> str:
        """Which tool manages the base chain that decided: firewalld, ufw, iptables or nft."""
        base = decision.base
        if base is None or base.tool == "nft":
            return "firewalld" if base is not None and is_firewalld(base.table) else "nft"
        saves = (source.get("save", "") for source in self.firewall["sources"])
        return "ufw" if any(":ufw-user-input " in save for save in saves) else "iptables"

    def zone(self) -> str | None:
        rulesets = [source["ruleset"] for source in self.firewall["sources"] if source["kind"] == "nftables"]
        return next(filter(None, (runtime_zone(ruleset, self.packet) for ruleset in rulesets)), None)

    def fix(self, decision: Decision, zone: str | None) -> str:
        """The command that accepts FIRST-LAST, in the words of the tool that manages the chain."""
        packet, base, manager = self.packet, decision.base, self.manager(decision)
        if manager == "firewalld":
            return (
                f"firewall-cmd --permanent --zone={zone or '<zone of ' + packet.iifname + '>'} "
                f"--add-port={span(self.first, self.last)}/tcp && firewall-cmd --reload"
            )
        if manager == "ufw":
            return f"ufw allow in on {packet.iifname} proto tcp to any port {span(self.first, self.last, ':')}"
        if manager == "iptables" and base is not None:
            table = "" if base.table == "filter" else f"-t {base.table} "
            version = 6 if packet.family == "ip6" else 4
            return (
                f"{base.tool} {table}-I {base.chain} -i {packet.iifname} -p tcp --dport "
                f"{span(self.first, self.last, ':')} -j ACCEPT, then persist it: {base.tool}-save > "
                f"/etc/iptables/rules.v{version} (Debian's iptables-persistent) or `service "
                f"{base.tool.split('-')[0]} save` (RHEL's iptables-services)"
            )
        where = f"{base.table} {base.chain}" if base is not None else "inet filter input"
        return (
            f'nft insert rule {where} iifname "{packet.iifname}" {packet.family} saddr {packet.saddr} '
            f"tcp dport {span(self.first, self.last)} accept, and the same in /etc/nftables.conf"
        )


def blocked_detail(ports: Ports, decision: Decision, zone: str | None) -> str | None:
    """Who blocks the range, as its admin knows it."""
    manager, base = ports.manager(decision), decision.base
    if manager == "firewalld":
        return f"{ports.packet.iifname} is in firewalld zone {zone or '(not found)'}, which does not open them"
    if manager == "ufw":
        by = f"the ufw chain rule {decision.rule}" if decision.rule else "ufw's default incoming policy"
        return f"no ufw rule allows them; {by} {decision.verdict}s them"
    if manager == "iptables" and base is not None:
        by = decision.rule or f"the {decision.reason}"
        return f"table {base.table}, chain {base.chain} of {base.tool}: {by}"
    return None  # nft: the evidence and the fix name the rule


def permanent_gap(ports: Ports, zone: str | None) -> tuple[str, str] | None:
    """Where firewalld's permanent configuration does not open the accepted range: (what is
    lost at the next reload, the zone to open it in), or None."""
    files = ports.firewall["firewalld"]
    if not files:
        return None
    config = permanent(files)
    permanent_zone, why = config.zone_of(ports.packet.iifname, ports.packet.saddr)
    closed = config.closed(permanent_zone, ports.first, ports.last)
    if not closed:
        return None
    names = ", ".join(span(low, high) for low, high in closed)
    if permanent_zone == zone:
        where = f"in zone {zone} only in the runtime configuration ({names} not in the permanent one)"
    else:
        where = f"at runtime in zone {zone}, but after a reload {ports.packet.iifname} is in zone {permanent_zone} ({why}), which does not open {names}"
    return where, permanent_zone


def judge_ports(pair: Pair, packet: Packet, first: int, last: int, what: str) -> Outcome:
    """Name every sub-range that is not accepted, with the rule, chain or zone that decides it."""
    ports = Ports(pair, packet, first, last, what)
    try:
        outcome = judged(ports)
    except MALFORMED as exc:
        outcome = warned(
            f"cannot tell whether {pair.dst_label} accepts {what} {span(first, last)}: its firewall facts "
            f"are malformed ({type(exc).__name__}: {exc})"
        )
    missing = lacking(pair.dst["firewall"])
    if missing and outcome.status != Status.FAIL:
        raise Skip(f"{pair.dst_label}'s saved facts lack {missing}: collect them again with this migdoctor")
    return outcome


def judged(ports: Ports) -> Outcome:
    pair, first, last, what = ports.pair, ports.first, ports.last, ports.what
    spans = evaluate_port_range(evaluator(pair.dst["firewall"]), ports.packet, first, last)
    evidence = [
        Evidence(pair.dst_label, f"{what} {span(low, high)}", f"{d.verdict}: {d.rule or d.reason}", "accept")
        for low, high, d in spans
    ]
    blocked = [(low, high, d) for low, high, d in spans if d.verdict in ("drop", "reject")]
    unknown = [(low, high, d) for low, high, d in spans if d.verdict == "unknown"]
    firewalld = any(ports.manager(d) == "firewalld" for _, _, d in spans)
    zone = ports.zone() if firewalld else None
    if zone:
        evidence.append(Evidence(pair.dst_label, f"firewalld zone of {ports.packet.iifname}", zone))
    if blocked:
        names = ", ".join(f"{span(low, high)} ({d.verdict})" for low, high, d in blocked)
        decision = blocked[0][2]
        gap = permanent_gap(ports, zone) if ports.manager(decision) == "firewalld" else None
        fix = ports.fix(decision, gap[1] if gap else zone)
        detail = blocked_detail(ports, decision, zone)
        return failed(
            f"{pair.dst_label}'s firewall blocks {what} {names} of {span(first, last)} for {ports.where}"
            + (f": {detail}" if detail else ""),
            *evidence,
            remediation=f"{pair.dst_label}: {fix} (it must come before {decision.rule or 'the policy'})"
            if ports.manager(decision) not in ("firewalld", "ufw")
            else f"{pair.dst_label}: {fix}",
        )
    if unknown:
        low, high, decision = unknown[0]
        return warned(
            f"cannot tell whether {pair.dst_label} accepts {what} {span(low, high)}: {decision.reason}", *evidence
        )
    gap = permanent_gap(ports, zone) if firewalld else None
    if gap:
        return warned(
            f"{pair.dst_label}'s firewall accepts {what} {span(first, last)} for {ports.where} {gap[0]}: "
            "lost at the next firewall-cmd --reload or restart",
            *evidence,
            remediation=f"{pair.dst_label}: {ports.fix(spans[0][2], gap[1])}",
        )
    in_zone = f" (firewalld zone {zone}, runtime and permanent)" if zone else ""
    return passed(
        f"{pair.dst_label}'s firewall accepts {what} {span(first, last)} for {ports.where}{in_zone}", *evidence
    )


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
