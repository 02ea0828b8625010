"""Links, addresses, qdiscs, routes and route look-ups, read over netlink with pyroute2."""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Iterable
from typing import Any

from pyroute2.ethtool.ioctl import IoctlEthtool
from pyroute2.iproute.linux import IPRoute
from pyroute2.netlink.exceptions import NetlinkError

from migdoctor.facts.gaps import Gaps

LINK_KINDS = {"veth", "bond", "bridge", "vlan", "macvlan", "team", "vxlan", "tun"}
# linux/if_bonding.h BOND_MODE_* and BOND_LINK_*, as iproute2 names them (ip/iplink_bond.c).
BOND_MODES = ("balance-rr", "active-backup", "balance-xor", "broadcast", "802.3ad", "balance-tlb", "balance-alb")
BOND_LINK_STATES = ("up", "fail", "down", "back")
VLAN_PROTOCOLS = {0x8100: "802.1Q", 0x88A8: "802.1ad"}
FAMILIES = {socket.AF_INET: "inet", socket.AF_INET6: "inet6"}
LOCAL_TABLE = 255
FAMILY_OF_VERSION = {4: socket.AF_INET, 6: socket.AF_INET6}


def link_kind(info_kind: str | None, ifname: str) -> str:
    """Map the kernel's IFLA_INFO_KIND to the kinds admins name; no kind means a real NIC."""
    if ifname == "lo":
        return "loopback"
    if info_kind is None:
        return "physical"
    return info_kind if info_kind in LINK_KINDS else f"other:{info_kind}"


def tbf_rate_bps(options: Any) -> int | None:
    """Shaping rate of a tbf qdisc in bit/s (TCA_TBF_RATE64 holds rates over 32 bits)."""
    if options is None:
        return None
    rate64 = options.get("TCA_TBF_RATE64")
    params = options.get("TCA_TBF_PARMS") or {}
    rate = rate64 or params.get("rate")
    return int(rate) * 8 if rate else None


def qdisc_record(message: Any) -> dict[str, Any]:
    kind = message.get("TCA_KIND")
    record: dict[str, Any] = {"kind": kind, "rate_bps": None}
    if kind == "tbf":
        record["rate_bps"] = tbf_rate_bps(message.get("TCA_OPTIONS"))
    return record


def link_speed_mbps(ethtool: IoctlEthtool, ifname: str) -> int | None:
    """Speed as the driver reports it; None where the kernel does not know (unknown = -1). Asked
    by ethtool's ioctl, which reads what its netlink interface does (the driver's link settings)
    without importing pyroute2's generic netlink families."""
    try:
        ethtool.change_ifname(ifname)
        speed = ethtool.get_link_settings().speed
    except Exception:  # noqa: BLE001 - drivers without ethtool support simply have no speed
        return None
    return speed if isinstance(speed, int) and 0 < speed < 4_000_000 else None


def stack_record(message: Any, names: dict[int, str]) -> dict[str, Any]:
    """Where a link sits in a stack (IFLA_LINKINFO): its parent (a VLAN's or macvlan's lower
    device), its bond settings, its state as a bond member, its VLAN id."""
    info = message.get("IFLA_LINKINFO")
    kind = message.get_nested("IFLA_LINKINFO", "IFLA_INFO_KIND")
    parent = message.get("IFLA_LINK")
    record: dict[str, Any] = {
        # a veth's IFLA_LINK is its peer, often in another namespace: not a lower device
        "parent": names.get(parent) if parent and kind in ("vlan", "macvlan") else None,
        "bond": None,
        "bond_member": None,
        "vlan": None,
    }
    data = info.get("IFLA_INFO_DATA") if info else None
    if kind == "bond" and data:
        mode, active = data.get("IFLA_BOND_MODE"), data.get("IFLA_BOND_ACTIVE_SLAVE")
        ad_info = data.get("IFLA_BOND_AD_INFO")
        record["bond"] = {
            "mode": BOND_MODES[mode] if mode is not None and mode < len(BOND_MODES) else str(mode),
            "active_member": names.get(active) if active else None,
            "active_aggregator": ad_info.get("IFLA_BOND_AD_INFO_AGGREGATOR") if ad_info else None,
        }
    if kind == "vlan" and data:
        record["vlan"] = {
            "id": data.get("IFLA_VLAN_ID"),
            "protocol": VLAN_PROTOCOLS.get(data.get("IFLA_VLAN_PROTOCOL"), str(data.get("IFLA_VLAN_PROTOCOL"))),
        }
    member = info.get("IFLA_INFO_SLAVE_DATA") if info and info.get("IFLA_INFO_SLAVE_KIND") == "bond" else None
    if member:
        mii = member.get("IFLA_BOND_SLAVE_MII_STATUS")
        record["bond_member"] = {
            "state": "backup" if member.get("IFLA_BOND_SLAVE_STATE") else "active",
            "mii_status": BOND_LINK_STATES[mii] if mii is not None and mii < len(BOND_LINK_STATES) else str(mii),
            "aggregator_id": member.get("IFLA_BOND_SLAVE_AD_AGGREGATOR_ID"),
            "link_failure_count": member.get("IFLA_BOND_SLAVE_LINK_FAILURE_COUNT"),
        }
    return record


def link_names(messages: Iterable[Any]) -> dict[int, str]:
    """Interface index -> name, from link messages."""
    return {message["index"]: message.get("IFLA_IFNAME") for message in messages}


def collect_links(ipr: IPRoute, gaps: Gaps) -> list[dict[str, Any]]:
    root_qdiscs: dict[int, dict[str, Any]] = {}
    for message in ipr.get_qdiscs():
        if message.get("parent") == 0xFFFFFFFF:
            root_qdiscs[message["index"]] = qdisc_record(message)
    addresses: dict[int, list[dict[str, Any]]] = {}
    for message in ipr.get_addr():
        addresses.setdefault(message["index"], []).append(
            {
                "address": message.get("IFA_ADDRESS"),
                "prefixlen": message["prefixlen"],
                "family": FAMILIES.get(message["family"], str(message["family"])),
                "scope": message["scope"],
            }
        )
    messages = list(ipr.get_links())
    names = link_names(messages)
    ethtool = IoctlEthtool()
    links = []
    try:
        for message in messages:
            ifname = message.get("IFLA_IFNAME")
            stats = message.get("IFLA_STATS64") or {}
            master = message.get("IFLA_MASTER")
            links.append(
                {
                    "name": ifname,
                    "index": message["index"],
                    "kind": link_kind(message.get_nested("IFLA_LINKINFO", "IFLA_INFO_KIND"), ifname),
                    "state": message.get("IFLA_OPERSTATE"),
                    "admin_up": bool(message["flags"] & 1),
                    "speed_mbps": link_speed_mbps(ethtool, ifname),
                    "mtu": message.get("IFLA_MTU"),
                    "mac": message.get("IFLA_ADDRESS"),
                    "master": names.get(master) if master else None,
                    "members": [],
                    "addresses": addresses.get(message["index"], []),
                    "qdisc": root_qdiscs.get(message["index"]),
                    "rx_bytes": stats.get("rx_bytes"),
                    "tx_bytes": stats.get("tx_bytes"),
                    **stack_record(message, names),
                }
            )
    finally:
        ethtool.close()
    by_name = {link["name"]: link for link in links}
    for link in links:
        if link["master"] in by_name:
            by_name[link["master"]]["members"].append(link["name"])
    return links


def route_record(message: Any, names: dict[int, str]) -> dict[str, Any]:
    dst = message.get("RTA_DST")
    family = FAMILIES.get(message["family"], str(message["family"]))
    oif = message.get("RTA_OIF")
    return {
        "family": family,
        "table": message.get("RTA_TABLE", message["table"]),
        "destination": f"{dst}/{message['dst_len']}" if dst else "default",
        "gateway": message.get("RTA_GATEWAY"),
        "interface": names.get(oif) if oif else None,
        "source": message.get("RTA_PREFSRC"),
        "metric": message.get("RTA_PRIORITY"),
        "scope": message["scope"],
        "protocol": message["proto"],
    }


def collect_routes(ipr: IPRoute, names: dict[int, str]) -> list[dict[str, Any]]:
    """Every route outside the kernel's local table (table 255 holds only own addresses)."""
    routes = []
    for family in FAMILIES:
        for message in ipr.get_routes(family=family):
            record = route_record(message, names)
            if record["table"] != LOCAL_TABLE:
                routes.append(record)
    return routes


def lookup_route(ipr: IPRoute, destination: str, names: dict[int, str]) -> dict[str, Any]:
    """The route the kernel would choose for a connection to DESTINATION, as `ip route get`."""
    try:
        address = ipaddress.ip_address(destination)
    except ValueError:
        return {"destination": destination, "error": "not an IP address"}
    try:
        messages = ipr.route("get", dst=str(address), family=FAMILY_OF_VERSION[address.version])
    except NetlinkError as exc:
        return {"destination": destination, "error": os.strerror(exc.code)}
    record = route_record(messages[0], names)
    record["destination"] = destination
    record["error"] = None
    return record


def collect_network(route_to: list[str], gaps: Gaps, lookups_only: bool = False) -> dict[str, Any]:
    """Links, routes and the route look-ups. LOOKUPS_ONLY (a second round): the look-ups alone,
    the links read only for the names of the interfaces the routes leave by."""
    with IPRoute() as ipr:
        if lookups_only:
            names = link_names(ipr.get_links())
            return {"links": None, "routes": None, "route_lookups": [lookup_route(ipr, to, names) for to in route_to]}
        links = gaps.attempt("links", lambda: collect_links(ipr, gaps))
        names = {link["index"]: link["name"] for link in links or []}
        routes = gaps.attempt("routes", lambda: collect_routes(ipr, names))
        lookups = [lookup_route(ipr, destination, names) for destination in route_to]
    return {"links": links, "routes": routes, "route_lookups": lookups}
