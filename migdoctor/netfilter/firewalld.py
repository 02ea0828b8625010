"""firewalld's view of a connection: the zone it arrives in, at runtime (the zone dispatch chains
of `table inet firewalld`) and in the permanent configuration (the zone XML files), and whether
the permanent configuration opens its ports there. The runtime answer is the ruleset's own."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass, field
from ipaddress import ip_network
from typing import Any

from migdoctor.netfilter.engine import Step, Unsupported, judge
from migdoctor.netfilter.model import Packet, parsed
from migdoctor.netfilter.nft_expr import compile_statement

TABLE = ("inet", "firewalld")
DISPATCH = ("filter_INPUT_ZONES_SOURCE", "filter_INPUT_ZONES")  # firewalld 0.6-0.8 had both, later one
ZONE_CHAIN = re.compile(r"^filter_IN_(.+)$")
DIRECTORIES = ("/usr/lib/firewalld", "/etc/firewalld")  # an /etc file overrides the /usr/lib one
DEFAULT_ZONE = re.compile(r"^\s*DefaultZone\s*=\s*(\S+)", re.MULTILINE)
OPEN_TARGETS = frozenset({"ACCEPT"})


def is_firewalld(base_table: str) -> bool:
    return base_table == " ".join(TABLE)


@dataclass(frozen=True)
class ZoneDispatch:
    """firewalld's zone dispatch chains compiled (once per host): which zone's chain a packet goes to."""

    rules: tuple[tuple[Step, ...], ...]

    def zone(self, packet: Packet) -> str | None:
        """The zone PACKET is sent to, or None when the dispatch cannot tell."""
        for steps in self.rules:
            verdict = judge(steps, packet)
            zone = ZONE_CHAIN.match(verdict.arg) if verdict.kind in ("goto", "jump") else None
            if zone:
                return zone.group(1)
            if verdict.kind not in ("next", "return"):
                return None
        return None


def zone_dispatch(ruleset: Mapping[str, Any]) -> ZoneDispatch | None:
    """The dispatch of `table inet firewalld` in RULESET, or None where firewalld has no table."""
    rules: dict[str, list[tuple[Step, ...]]] = {name: [] for name in DISPATCH}
    for item in ruleset.get("nftables", []):
        body = item.get("rule") if isinstance(item, dict) else None
        if isinstance(body, dict) and (body.get("family"), body.get("table")) == TABLE and body.get("chain") in rules:
            compiled = (compile_statement(stmt, _no_sets) for stmt in body.get("expr", []))
            rules[body["chain"]].append(tuple(step for step in compiled if step is not None))
    found = [steps for name in DISPATCH for steps in rules[name]]
    return ZoneDispatch(tuple(found)) if found else None


def runtime_zone(ruleset: Mapping[str, Any], packet: Packet) -> str | None:
    """The zone whose chain the ruleset's dispatch sends PACKET to, or None when it cannot tell."""
    dispatch = zone_dispatch(ruleset)
    return dispatch.zone(packet) if dispatch is not None else None


def _no_sets(name: str) -> list[Any]:
    raise Unsupported(f"set '@{name}' in firewalld's zone dispatch")


@dataclass
class Zone:
    name: str
    path: str
    target: str = "default"
    interfaces: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    ports: list[tuple[int, int]] = field(default_factory=list)  # TCP
    services: list[str] = field(default_factory=list)
    rich_rules: int = 0


@dataclass
class Permanent:
    """firewalld's permanent configuration, from its files."""

    zones: dict[str, Zone]
    services: dict[str, list[tuple[int, int]]]  # TCP ports by service name
    default_zone: str

    def zone_of(self, iifname: str, saddr: str) -> tuple[str, str]:
        """The zone a connection from SADDR on IIFNAME lands in, and why (a source binding wins)."""
        address = parsed(saddr)
        for zone in self.zones.values():
            for source in zone.sources:
                try:
                    if address in ip_network(source, strict=False):
                        return zone.name, f"source {source} is bound to it in {zone.path}"
                except ValueError:
                    continue
        for zone in self.zones.values():
            if iifname in zone.interfaces:
                return zone.name, f"{iifname} is bound to it in {zone.path}"
        return self.default_zone, f"{iifname} is bound to no zone: the default zone (DefaultZone)"

    def closed(self, zone_name: str, first: int, last: int) -> list[tuple[int, int]]:
        """The ports of FIRST-LAST the permanent zone does not open (by port or service)."""
        zone = self.zones.get(zone_name)
        if zone is None:
            return [(first, last)]
        if zone.target in OPEN_TARGETS:
            return []
        spans = [*zone.ports, *(span for name in zone.services for span in self.services.get(name, []))]
        closed, port = [], first
        for low, high in sorted(spans):
            if high < port or low > last:
                continue
            if low > port:
                closed.append((port, low - 1))
            port = max(port, high + 1)
            if port > last:
                return closed
        return [*closed, (port, last)]


def permanent(files: Mapping[str, str]) -> Permanent:
    """The permanent configuration the files hold; unreadable XML is left out of it (a zone that
    is missing then opens nothing, which can only make a finding stricter)."""
    zones: dict[str, Zone] = {}
    services: dict[str, list[tuple[int, int]]] = {}
    for directory in DIRECTORIES:  # /usr/lib first, then /etc overrides
        for path, text in sorted(files.items()):
            kind, _, name = path.removeprefix(directory + "/").partition("/")
            if not path.startswith(directory + "/") or not name.endswith(".xml") or "/" in name:
                continue
            root = _xml(text)
            if root is None:
                continue
            if kind == "zones":
                zones[name[:-4]] = _zone(name[:-4], path, root)
            elif kind == "services":
                services[name[:-4]] = _tcp_ports(root)
    conf = files.get("/etc/firewalld/firewalld.conf", "")
    found = DEFAULT_ZONE.search(conf)
    return Permanent(zones, services, found.group(1) if found else "public")


def _xml(text: str) -> ET.Element | None:
    try:
        return ET.fromstring(text)
    except ET.ParseError:
        return None


def _zone(name: str, path: str, root: ET.Element) -> Zone:
    return Zone(
        name,
        path,
        root.get("target", "default"),
        [item.get("name", "") for item in root.findall("interface")],
        [item.get("address", "") for item in root.findall("source") if item.get("address")],
        _tcp_ports(root),
        [item.get("name", "") for item in root.findall("service")],
        len(root.findall("rule")),
    )


def _tcp_ports(root: ET.Element) -> list[tuple[int, int]]:
    spans = []
    for item in root.findall("port"):
        if item.get("protocol") != "tcp":
            continue
        low, _, high = (item.get("port") or "").partition("-")
        if low.isdigit() and (high or low).isdigit():
            spans.append((int(low), int(high or low)))
    return spans
