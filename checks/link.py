"""The links at both ends of the migration network: up, fast enough, and with matching MTUs."""

from __future__ import annotations

from typing import Any

from migdoctor.checkapi import Evidence, Outcome, Registry, Skip, failed, passed
from migdoctor.judging.endpoints import migration_endpoints
from migdoctor.judging.facts import link_named, link_of_address
from migdoctor.judging.pair import Pair
from migdoctor.judging.stack import StreamRate, named_stack_mtus, named_stream_rate

registry = Registry(order=30)
UP_STATES = {"UP", "UNKNOWN"}


def path_links(pair: Pair) -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    """(label, facts, link) of the addressed migration link at each end."""
    src_links, dst_links = migration_endpoints(pair)
    ends = [
        (pair.src_label, pair.src, link_named(pair.src, src_links[0][0])),
        (pair.dst_label, pair.dst, link_named(pair.dst, dst_links[0][0])),
    ]
    return [(label, facts, link) for label, facts, link in ends if link is not None]


def via(rate: StreamRate) -> str:
    """The stack under a link, when there is one: ' via br-mig (bridge) > bond0 (bond 802.3ad: ...)'."""
    return f" via {rate.describe()}" if len(rate.path) > 1 or "(bond" in rate.path[0] else ""


@registry.check(
    "link.state",
    "The migration links at both ends are up",
    "critical",
    needs=("src.links", "dst.links"),
    description="a migration link is down at either end (operational or administrative state)",
    rationale=(
        "A down migration link makes the kernel fall back to whatever route remains, usually the management "
        "network, without a word in libvirt's logs; users of every cluster manager ask to be shown the "
        "network really used"
    ),
    fix="bring the link up (`ip link set DEV up`) and check its cable and switch port",
)
def link_state(pair: Pair) -> Outcome:
    down = [
        (label, link) for label, _, link in path_links(pair) if link["state"] not in UP_STATES or not link["admin_up"]
    ]
    down.sort(key=lambda item: item[1]["admin_up"])  # a link set down is the cause; its peer only loses carrier
    if not down:
        return passed("both migration links are up")
    label, link = down[0]
    return failed(
        f"{label}'s migration link {link['name']} is {link['state']}"
        + ("" if link["admin_up"] else " (administratively down)"),
        *(Evidence(lbl, f"link {lnk['name']} state", lnk["state"], "UP") for lbl, lnk in down),
        remediation=f"{label}: ip link set {link['name']} up; then check its cable/peer (operstate {link['state']})",
    )


@registry.check(
    "link.speed",
    "A migration stream gets at least the minimum through the link stacks at both ends, and no bond is degraded",
    "medium",
    needs=("src.links", "dst.links"),
    description=(
        "one stream gets less than `--min-link-speed` through a migration link's stack (walked down to the "
        "NICs: a bridge or VLAN takes its lower device's speed, a load-sharing bond one member's (balance-rr "
        "all of them), an active-backup bond its active member's; tbf shaping at any level caps it), or a "
        "bond under it is degraded (a member down, or up but outside the active 802.3ad aggregator)"
    ),
    rationale=(
        "Virtual devices report no speed (canonical/hotsos 452), so a 'fast' bridge can sit on a 1G port, and "
        "one TCP stream rides one bond member: a migration network that is slow or half-down turns a "
        "maintenance window into a day (xen-orchestra 2028)"
    ),
    fix=(
        "check the negotiated speed (`ethtool DEV`), the shaping (`tc qdisc show dev DEV`) and each bond "
        "member (/proc/net/bonding/BOND)"
    ),
)
def link_speed(pair: Pair) -> Outcome:
    minimum = pair.intent.min_link_speed_mbps
    rates = [
        (label, link, rate)
        for label, facts, link in path_links(pair)
        if (rate := named_stream_rate(facts, link["name"]))
    ]
    evidence = [
        Evidence(
            label,
            f"link {link['name']} effective rate{via(rate)} (Mb/s)",
            rate.mbps,
            f">= {minimum}" if minimum else None,
        )
        for label, link, rate in rates
    ]
    degraded = [(label, link, rate) for label, link, rate in rates if rate.degraded]
    if degraded:
        label, link, rate = degraded[0]
        bond = rate.degraded[0].split(" ", 1)[0]
        return failed(
            f"{label}'s migration link {link['name']} runs on a degraded bond: {'; '.join(rate.degraded)} "
            f"(a stream gets {rate.mbps} Mb/s)",
            *evidence,
            remediation=f"{label}: bring the member back (cat /proc/net/bonding/{bond}; ip -d link show master {bond}) "
            "and check its cable and switch port (LACP: the port channel)",
        )
    if minimum is None:
        raise Skip("no --min-link-speed given")
    slow = [(label, link, rate) for label, link, rate in rates if rate.mbps is not None and rate.mbps < minimum]
    if slow:
        label, link, rate = slow[0]
        return failed(
            f"{label}'s migration link {link['name']} carries {rate.mbps} Mb/s, below the minimum {minimum} Mb/s",
            *evidence,
            remediation=f"{label}: check the negotiated speed (ethtool DEVICE) and the qdisc (tc qdisc show dev DEVICE) "
            f"of each device{via(rate)}"
            if via(rate)
            else f"{label}: check link {link['name']}'s negotiated speed (ethtool {link['name']}) and its qdisc "
            f"(tc qdisc show dev {link['name']})",
        )
    if any(rate.mbps is None for _, _, rate in rates):
        raise Skip("the speed of a migration link is unknown to its kernel")
    return passed(
        f"migration links carry {', '.join(f'{r.mbps} Mb/s' for _, _, r in rates)} (minimum {minimum})",
        *evidence,
    )


@registry.check(
    "link.mtu",
    "The MTU is the same at both ends and at every level of each link stack",
    "medium",
    needs=("src.links", "dst.links"),
    description=(
        "a device in a migration link's stack has a smaller MTU than the addressed link above it, or the two "
        "ends' migration links have different MTUs"
    ),
    rationale=(
        "An MTU mismatch gives no clean error: migrations time out, lose their connection or crawl (Broadcom "
        "KB 417889, 432825; Vates, 'Understanding and Addressing MTU Mismatches')"
    ),
    fix=(
        "set the same MTU at every level of the stack and on both hosts (`ip link set DEV mtu N`, and in the "
        "network configuration)"
    ),
)
def link_mtu(pair: Pair) -> Outcome:
    ends = path_links(pair)
    if len(ends) < 2:
        raise Skip("a migration link is missing from the facts")
    for label, facts, link in ends:
        below = [
            (name, mtu)
            for name, mtu in named_stack_mtus(facts, link["name"])[1:]
            if mtu is not None and mtu < (link["mtu"] or 0)
        ]
        if below:
            name, mtu = below[0]
            return failed(
                f"{label}'s migration link {link['name']} has MTU {link['mtu']} but the device {name} below it has "
                f"{mtu}: frames above {mtu} bytes are dropped there",
                *(
                    Evidence(label, f"link {device} mtu", value, link["mtu"])
                    for device, value in named_stack_mtus(facts, link["name"])
                ),
                remediation=f"{label}: ip link set {name} mtu {link['mtu']} (and in its network configuration), "
                f"or lower {link['name']} to {mtu}",
            )
    (src_label, _, src_link), (dst_label, _, dst_link) = ends
    evidence = (
        Evidence(src_label, f"link {src_link['name']} mtu", src_link["mtu"], dst_link["mtu"]),
        Evidence(dst_label, f"link {dst_link['name']} mtu", dst_link["mtu"], src_link["mtu"]),
    )
    if src_link["mtu"] == dst_link["mtu"]:
        return passed(f"both migration links have MTU {src_link['mtu']}", *evidence)
    low, high = sorted(
        [(src_link["mtu"], src_label, src_link), (dst_link["mtu"], dst_label, dst_link)], key=lambda item: item[0]
    )
    return failed(
        f"MTU differs: {src_label} {src_link['name']} {src_link['mtu']}, {dst_label} {dst_link['name']} {dst_link['mtu']}",
        *evidence,
        remediation=f"{low[1]}: ip link set {low[2]['name']} mtu {high[0]} (and in its network configuration), or lower {high[1]}'s to {low[0]}",
    )


@registry.check(
    "link.path-mtu",
    "Don't-fragment packets at the migration links' MTU reach the destination's migration address",
    "high",
    description=(
        "don't-fragment packets at the migration links' MTU (the smaller end's) do not reach the "
        "destination's migration address from the source, tested as `vmkping -d -s 8972` does: ICMP echo, or "
        "one clamped TCP segment per size to a listener where QEMU would listen when ICMP is filtered; names "
        "the largest size that got through and the hop that answered 'too big'"
    ),
    rationale=(
        "Both hosts at 9000 and a switch at 1500 pass every local check, and the migration still stalls: only "
        "a don't-fragment packet across the path shows it (vSAN health 'vMotion: MTU check'; Broadcom KB "
        "417889)"
    ),
    fix=(
        "raise the MTU of every switch port, bridge and router between the two migration links, or lower the "
        "hosts' MTU to what the path carries"
    ),
)
def path_mtu(pair: Pair) -> Outcome:
    record = (pair.probe or {}).get("path_mtu")
    if record is None:
        raise Skip("path MTU probe not run (saved facts judged, or --no-probe)")
    if record.get("skipped"):
        raise Skip(f"path MTU from {pair.src_label} not probed: {record['skipped']}")
    address, expected, largest = record["address"], record["expected"], record["largest"]
    dst_link = link_of_address(pair.dst, address) or "its migration link"
    src_link = record["source_link"]
    evidence = [
        Evidence(pair.src_label, f"largest don't-fragment packet to {address} ({record['method']})", largest, expected),
        Evidence(pair.src_label, f"link {src_link} mtu", record["source_mtu"]),
        Evidence(pair.dst_label, f"link {dst_link} mtu", record["peer_mtu"]),
    ]
    if largest >= expected:
        return passed(
            f"{expected}-byte packets with don't-fragment reach {pair.dst_label} {address} from {pair.src_label} "
            f"{src_link} ({record['method']})",
            *evidence,
        )
    hop = (
        f"; {record['too_big_from']} answered that its next hop takes {record['too_big_mtu']} bytes"
        if record.get("too_big_from")
        else "; nothing on the path said so (a switch or bridge drops such frames silently)"
    )
    if record.get("too_big_from"):
        evidence.append(Evidence(record["too_big_from"], "next-hop MTU it reported", record["too_big_mtu"], expected))
    return failed(
        f"packets above {largest} bytes with don't-fragment do not reach {pair.dst_label} {address} from "
        f"{pair.src_label}, though both migration links take {expected}: a hop between them has a smaller MTU{hop}. "
        "Migrations stall instead of failing",
        *evidence,
        remediation=f"let every switch port, bridge and router between {pair.src_label} {src_link} and {pair.dst_label} "
        f"{dst_link} pass {expected}-byte frames; or set both ends to {largest}: {pair.src_label}: ip link set {src_link} "
        f"mtu {largest}, {pair.dst_label}: ip link set {dst_link} mtu {largest} (and in their network configuration)",
    )
