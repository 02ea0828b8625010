"""The links at both ends of the migration network: up, fast enough, and with matching MTUs."""

from __future__ import annotations

from typing import Any

from migdoctor.checkapi import Evidence, Outcome, Registry, Skip, failed, passed
from migdoctor.judging.pair import Pair, effective_rate_mbps, link_named, migration_endpoints

registry = Registry()
UP_STATES = {"UP", "UNKNOWN"}


def path_links(pair: Pair) -> list[tuple[str, dict[str, Any]]]:
    src_links, dst_links = migration_endpoints(pair)
    ends = [
        (pair.src_label, link_named(pair.src, src_links[0][0])),
        (pair.dst_label, link_named(pair.dst, dst_links[0][0])),
    ]
    return [(label, link) for label, link in ends if link is not None]


@registry.check("link.state", "The migration links at both ends are up", "critical", needs=("src.links", "dst.links"))
def link_state(pair: Pair) -> Outcome:
    down = [(label, link) for label, link in path_links(pair) if link["state"] not in UP_STATES or not link["admin_up"]]
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
    "The migration links are at least as fast as the minimum (speed or shaping, whichever is lower)",
    "medium",
    needs=("src.links", "dst.links"),
)
def link_speed(pair: Pair) -> Outcome:
    minimum = pair.intent.min_link_speed_mbps
    if minimum is None:
        raise Skip("no --min-link-speed given")
    rates = [(label, link, effective_rate_mbps(link)) for label, link in path_links(pair)]
    evidence = [
        Evidence(label, f"link {link['name']} effective rate (Mb/s)", rate, f">= {minimum}")
        for label, link, rate in rates
    ]
    slow = [(label, link, rate) for label, link, rate in rates if rate is not None and rate < minimum]
    if slow:
        label, link, rate = slow[0]
        return failed(
            f"{label}'s migration link {link['name']} carries {rate} Mb/s, below the minimum {minimum} Mb/s",
            *evidence,
            remediation=f"{label}: check link {link['name']}'s negotiated speed (ethtool {link['name']}) and its qdisc (tc qdisc show dev {link['name']})",
        )
    if any(rate is None for _, _, rate in rates):
        raise Skip("the speed of a migration link is unknown to its kernel")
    return passed(f"migration links carry {', '.join(f'{r} Mb/s' for _, _, r in rates)} (minimum {minimum})", *evidence)


@registry.check(
    "link.mtu", "Both ends of the migration network have the same MTU", "medium", needs=("src.links", "dst.links")
)
def link_mtu(pair: Pair) -> Outcome:
    ends = path_links(pair)
    if len(ends) < 2:
        raise Skip("a migration link is missing from the facts")
    (src_label, src_link), (dst_label, dst_link) = ends
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
