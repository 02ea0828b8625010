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
    read_only_memo,
    remote_endpoint,
    route_to,
    valid_port_range,
)
from migdoctor.judging.pair import Pair
from migdoctor.netfilter import Decision, Packet, evaluate_port_range
from migdoctor.netfilter.engine import Evaluator
from migdoctor.netfilter.firewalld import Permanent, ZoneDispatch, is_firewalld, permanent, zone_dispatch
from migdoctor.netfilter.host import host_evaluator, lacking, tool_of, upgraded

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


@read_only_memo
def dispatch_of(firewall: dict[str, Any]) -> ZoneDispatch | None:
    """firewalld's zone dispatch, compiled once per host; None where firewalld does not run."""
    sources = upgraded(firewall)["sources"]
    rulesets = (source["ruleset"] for source in sources if source["kind"] == "nftables")
    return next(filter(None, map(zone_dispatch, rulesets)), None)


@read_only_memo
def ufw_manages(firewall: dict[str, Any], tool: str) -> bool:
    """Whether ufw manages the tables TOOL (iptables, ip6tables-legacy, ...) writes: its chains are there."""
    return any(
        tool_of(source) == tool and (":ufw-user-input " in source["save"] or ":ufw6-user-input " in source["save"])
        for source in upgraded(firewall)["sources"]
        if "save" in source
    )


@read_only_memo
def permanent_config(firewall: dict[str, Any]) -> Permanent | None:
    """firewalld's permanent configuration (once per host), None where its files were not read."""
    files = upgraded(firewall)["firewalld"]
    return permanent(files) if files else None


def span(low: int, high: int, sep: str = "-") -> str:
    return f"{low}{sep}{high}" if low != high else str(low)


def inbound(dst: dict[str, Any], saddr: str, daddr: str, iifname: str, dport: int) -> Packet:
    """A new connection from SADDR, of the family its addresses are (a migration network may be
    IPv6), with whether DST's route back to SADDR leaves by IIFNAME where its look-up was made
    (a reverse-path filter's question)."""
    route = route_to(dst, saddr)
    back = None if not route or route.get("error") else route.get("interface") == iifname
    return Packet(saddr, daddr, iifname, dport, "ip6" if address_of(saddr).version == 6 else "ip", back)


@dataclass(frozen=True)
class Ports:
    """The question asked of one destination: PACKET's source to FIRST-LAST, called WHAT."""

    pair: Pair
    packet: Packet
    first: int
    last: int
    what: str

    @property
    def where(self) -> str:
        return f"TCP from {self.packet.saddr} to {self.packet.daddr} on {self.packet.iifname}"

    def manager(self, decision: Decision) -> str:
        """Which tool manages the base chain that decided: firewalld, ufw, iptables or nft."""
        base = decision.base
        if base is None or base.tool == "nft":
            return "firewalld" if base is not None and is_firewalld(base.table) else "nft"
        return "ufw" if ufw_manages(self.pair.dst["firewall"], base.tool) else "iptables"

    def zone(self) -> str | None:
        """The firewalld zone the connection arrives in at runtime; None where firewalld does not run."""
        dispatch = dispatch_of(self.pair.dst["firewall"])
        return dispatch.zone(self.packet) if dispatch is not None else None

    def fix(self, manager: str, zone: str | None, decision: Decision | None = None) -> str:
        """The command that accepts FIRST-LAST, in the words of the tool that manages the chain."""
        packet, base = self.packet, decision.base if decision is not None else None
        if manager == "firewalld":
            return (
                f"firewall-cmd --permanent --zone={zone or 'ZONE'} --add-port={span(self.first, self.last)}/tcp "
                "&& firewall-cmd --reload"
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


@dataclass(frozen=True)
class Permanently:
    """Where firewalld's permanent configuration puts the connection, and what it leaves closed."""

    zone: str
    why: str
    closed: str  # "" when it opens the whole range


def permanently(ports: Ports) -> Permanently | None:
    """None where firewalld's files were not collected."""
    config = permanent_config(ports.pair.dst["firewall"])
    if config is None:
        return None
    zone, why = config.zone_of(ports.packet.iifname, ports.packet.saddr)
    closed = ", ".join(span(low, high) for low, high in config.closed(zone, ports.first, ports.last))
    rich = config.zones[zone].rich_rules if zone in config.zones else 0
    if closed and rich:
        closed += f" (not counting its {rich} rich rules, which migdoctor does not read)"
    return Permanently(zone, why, closed)


def firewalld_blocked(ports: Ports, zone: str | None, decision: Decision) -> tuple[str, str]:
    """(who blocks the range, the fix) on a firewalld host, runtime and permanent configuration."""
    iface, later = ports.packet.iifname, permanently(ports)
    if decision.rule and " fib saddr " in decision.rule:
        return (
            f"firewalld's reverse-path filter drops them: the route back to {ports.packet.saddr} does not leave by "
            f"{iface} (see route.return-path)",
            f"route {ports.packet.saddr} back by {iface}, or set IPv6_rpfilter=no in /etc/firewalld/firewalld.conf",
        )
    detail = f"{iface} is in firewalld zone {zone or '(not found in its zone dispatch)'}"
    if later is None:
        return f"{detail}, which does not open them", ports.fix("firewalld", zone)
    if not later.closed:
        return (
            f"{detail}, which does not open them; the permanent configuration does (zone {later.zone}): firewalld "
            "was not reloaded since",
            "firewall-cmd --reload",
        )
    if later.zone == zone:
        return (
            f"{detail}, which opens them neither at runtime nor in the permanent configuration",
            ports.fix("firewalld", zone),
        )
    return (
        f"{detail}, which does not open them; after a reload it is in zone {later.zone} ({later.why}), which "
        f"does not open {later.closed}",
        ports.fix("firewalld", later.zone),
    )


def blocked_detail(ports: Ports, decision: Decision) -> str | None:
    """Who blocks the range, as the admin of a ufw or iptables host knows it."""
    manager, base = ports.manager(decision), decision.base
    if manager == "ufw":
        by = f"the rule {decision.rule}" if decision.rule else "ufw's default incoming policy"
        return f"no ufw rule allows them; {by} {decision.verdict}s them"
    if manager == "iptables" and base is not None:
        by = decision.rule or f"the {decision.verdict} policy"
        unseen = " (iptables-legacy tables are not in `nft list ruleset`)" if "legacy" in base.tool else ""
        return f"table {base.table}, chain {base.chain} of {base.tool}{unseen}: {by}"
    return None  # nft: the evidence and the fix name the rule


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
    zone = ports.zone()  # None where firewalld does not run
    if zone:
        evidence.append(Evidence(pair.dst_label, f"firewalld zone of {ports.packet.iifname}", zone))
    summary = f"{pair.dst_label}'s firewall {{}} {what} {{}} for {ports.where}"
    if blocked:
        names = ", ".join(f"{span(low, high)} ({d.verdict})" for low, high, d in blocked)
        decision = blocked[0][2]
        manager = ports.manager(decision)
        detail: str | None
        if manager == "firewalld":
            detail, fix = firewalld_blocked(ports, zone, decision)
        else:
            detail, fix = blocked_detail(ports, decision), ports.fix(manager, zone, decision)
            if decision.rule and manager != "ufw":
                fix += f" (it must come before {decision.rule})"
        return failed(
            summary.format("blocks", f"{names} of {span(first, last)}") + (f": {detail}" if detail else ""),
            *evidence,
            remediation=f"{pair.dst_label}: {fix}",
        )
    if unknown:
        low, high, decision = unknown[0]
        return warned(
            f"cannot tell whether {pair.dst_label} accepts {what} {span(low, high)}: {decision.reason}", *evidence
        )
    later = permanently(ports) if zone else None
    accepts = summary.format("accepts", span(first, last))
    if later is not None and later.closed:
        if later.zone == zone:
            where = f"in firewalld zone {zone} only at runtime ({later.closed} not in its permanent configuration)"
        else:
            where = (
                f"at runtime in firewalld zone {zone}, but after a reload {ports.packet.iifname} is in zone "
                f"{later.zone} ({later.why}), which does not open {later.closed}"
            )
        return warned(
            f"{accepts} {where}: lost at the next firewall-cmd --reload or restart",
            *evidence,
            remediation=f"{pair.dst_label}: {ports.fix('firewalld', later.zone)}",
        )
    in_zone = f" (firewalld zone {zone}, at runtime and in the permanent configuration)" if zone else ""
    return passed(accepts + in_zone, *evidence)


@registry.check(
    "firewall.migration-ports",
    "The destination's firewall accepts the whole migration port range from the source on the migration link",
    "critical",
    needs=("dst.firewall", "src.links", "dst.links"),
    description=(
        "the destination's packet filter (nftables, iptables-nft and iptables-legacy tables alike: every base "
        "chain on the way must accept) does not accept TCP from the source on the link it arrives by for "
        "every port of the migration range; blocked sub-ranges are named with the firewalld zone of that link "
        "(at runtime and in the permanent configuration: open only at runtime is a warning), the ufw rule, or "
        "the iptables table and chain, and a rule or policy migdoctor does not understand is a warning, never "
        "a pass"
    ),
    rationale=(
        "A firewall that blocks 49152-49215 fails the migration with `unable to connect to server at "
        "'host:49152': No route to host` (firewalld's REJECT), and one that passes part of the range fails "
        "only under concurrency (xcat2/xcat-core 720; firewalld/firewalld 1452); iptables-legacy tables are "
        "invisible to `nft list ruleset`, and a port opened only in firewalld's runtime configuration is "
        "closed again by the next reload"
    ),
    fix=(
        "open the whole migration port range on the migration link with the tool that manages the filter: "
        "`firewall-cmd --permanent --zone=ZONE --add-port=49152-49215/tcp && firewall-cmd --reload`, "
        "`ufw allow in on IFACE proto tcp to any port 49152:49215`, or `iptables -I INPUT -i IFACE -p tcp "
        "--dport 49152:49215 -j ACCEPT` (iptables-legacy where the drop is in a legacy table) saved with "
        "iptables-save, or an nft rule before the one that drops (the finding gives the command)"
    ),
)
def migration_ports(pair: Pair) -> Outcome:
    src_links, dst_links = migration_endpoints(pair)
    first, last = valid_port_range(pair.dst)
    packet = inbound(pair.dst, src_links[0][1], dst_links[0][1], dst_links[0][0], first)
    return judge_ports(pair, packet, first, last, "migration ports")


@registry.check(
    "firewall.libvirt-ports",
    "The destination's firewall accepts the source's libvirt connection (16509/16514 or ssh)",
    "high",
    needs=("dst.firewall", "src.route_lookups", "dst.links"),
    description=(
        "the destination's firewall (nftables, iptables-nft and iptables-legacy tables alike) does not accept "
        "the source's libvirt connection (16509 for tcp, 16514 for tls, or sshd's port for ssh) on the link it "
        "arrives by; the firewalld zone, ufw rule or iptables chain is named"
    ),
    rationale=(
        "The migration never starts when the peer connection is filtered, and with `drop` rules it hangs "
        "until TCP gives up instead of failing (apache/cloudstack 9965)"
    ),
    fix=(
        "accept TCP from the source to libvirt's port (16509, 16514 or ssh) on the link it arrives by, with the "
        "tool that manages the filter (`firewall-cmd --permanent --zone=ZONE --add-service=libvirt`, `ufw allow "
        "in on IFACE proto tcp to any port 16509`, `iptables -I INPUT ...`; the finding gives the command)"
    ),
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
    packet = inbound(pair.dst, route["source"], addresses[0], arrival, port)
    return judge_ports(pair, packet, port, port, f"libvirt {transport} port")
