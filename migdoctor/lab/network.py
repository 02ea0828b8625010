"""The lab's wires: namespaces, veth links, the management bridge, tbf shaping, firewalls.

Set-up goes through `ip -batch` and `tc -batch` so the whole topology costs a handful of
processes. No host gets a default route, so nothing can leave the machine.
"""

import contextlib
import os
import re
from pathlib import Path

from migdoctor.lab import layout, procs
from migdoctor.lab.errors import LabError
from migdoctor.lab.scenario import LinkTweak, Scenario

_RATE = re.compile(r"^(\d+(?:\.\d+)?)([kmgt]?)(bit|bps)$", re.IGNORECASE)
_SCALE = {"": 1, "k": 10**3, "m": 10**6, "g": 10**9, "t": 10**12}
MAX_RATE_BITS = 10**12
GSO_MAX = 65536
DEFAULT_MTU = 1500
ROLES = ("lan", "fast")  # the shaped networks; mgmt is the unshaped bridge in the root namespace


def rate_bits(rate: str) -> int:
    """Parse a tc rate (`100mbit`, `1gbit`, `12mbps` = bytes/s) into bits per second."""
    m = _RATE.match(rate.strip())
    if not m:
        raise LabError(f"bad rate {rate!r}: use tc units such as 100mbit or 1gbit")
    per_unit = 8 if m.group(3).lower() == "bps" else 1  # tc's "bps" means bytes per second
    bits = float(m.group(1)) * _SCALE[m.group(2).lower()] * per_unit
    if bits < 1_000_000:
        raise LabError(f"rate {rate!r} is below 1mbit; the lab's daemons would crawl")
    if bits > MAX_RATE_BITS:
        raise LabError(f"rate {rate!r} is above 1tbit, more than the lab's veth links carry")
    return int(bits)


def tbf_args(rate: str) -> list[str]:
    """tbf parameters that let a veth actually reach `rate`.

    The bucket must hold a full GSO super-packet (veth hands tbf 64 KiB segments) and enough
    for a few milliseconds of traffic, or TCP never fills the pipe at gigabit rates.
    """
    bits = rate_bits(rate)
    burst = max(2 * GSO_MAX, bits // 8 // 200)  # 5 ms of traffic
    return ["rate", rate, "burst", str(burst), "latency", "20ms"]


def create(scn: Scenario, lan_rate: str, fast_rate: str) -> None:
    """Build namespaces, links, addresses, shaping and scenario link tweaks."""
    hosts = scn.lab_hosts
    switched = [role for role in ROLES if scn.switched(role)]
    root = [f"netns add {h.netns}" for h in hosts] + [f"netns add {layout.DNS_NS}"]
    root += [f"netns add {layout.SWITCH_NS}"] if switched else []
    root += [
        f"link add {layout.BRIDGE} type bridge",
        f"addr add {layout.BRIDGE_IP}/{layout.BRIDGE_PREFIXLEN} dev {layout.BRIDGE}",
        f"link set {layout.BRIDGE} up",
        f"link add {layout.DNS_IF} netns {layout.DNS_NS} type veth peer name {layout.DNS_PEER}",
        f"link set {layout.DNS_PEER} master {layout.BRIDGE} up",
    ]
    for role in ROLES:
        if role in switched:  # each host's veth ends on a port of the switch's bridge
            root += [
                f"link add {getattr(h, role).ifname} netns {h.netns} type veth"
                f" peer name {h.switch_port(role)} netns {layout.SWITCH_NS}"
                for h in hosts
            ]
        else:  # two hosts, cabled back to back
            a, b = hosts
            root.append(
                f"link add {getattr(a, role).ifname} netns {a.netns} type veth"
                f" peer name {getattr(b, role).ifname} netns {b.netns}"
            )
    for h in hosts:
        root += [
            f"link add {h.mgmt.ifname} netns {h.netns} type veth peer name {h.mgmt_peer}",
            f"link set {h.mgmt_peer} master {layout.BRIDGE} up",
        ]
    _batch(["ip"], root)
    rates = {"lan": lan_rate, "fast": fast_rate}
    if switched:
        _create_switch(scn, switched, rates)
    _batch(
        ["ip", "-n", layout.DNS_NS],
        [
            "link set lo up",
            f"addr add {layout.DNS_IP}/{layout.PREFIXLEN} dev {layout.DNS_IF}",
            f"link set {layout.DNS_IF} up",
        ],
    )
    for h in hosts:
        cfg = scn.hosts[h.name]
        cmds = ["link set lo up"]
        for link in h.links:
            tweak = cfg.links.get(link.role) or LinkTweak()
            addressed = tweak.bridge or link.ifname
            if tweak.bridge:  # as br-mig over the NIC on real hosts: the bridge holds the addresses
                cmds += [f"link add {tweak.bridge} type bridge", f"link set {link.ifname} master {tweak.bridge}"]
            if tweak.mtu:
                cmds += [f"link set {name} mtu {tweak.mtu}" for name in dict.fromkeys([link.ifname, addressed])]
            if tweak.ipv4:
                cmds.append(f"addr add {link.cidr} dev {addressed}")
            if tweak.ipv6:  # nodad: usable at once, no 1-2 s of duplicate detection
                cmds.append(f"addr add {link.cidr6} dev {addressed} nodad")
            state = "down" if tweak.down else "up"
            cmds += [f"link set {name} {state}" for name in dict.fromkeys([link.ifname, addressed])]
        cmds += [f"route add {r}" for r in cfg.routes]
        cmds += [cmd for bridge in cfg.bridges for cmd in (f"link add {bridge} type bridge", f"link set {bridge} up")]
        _batch(["ip", "-n", h.netns], cmds)
        for key, value in cfg.sysctls.items():
            procs.run(
                ["ip", "netns", "exec", h.netns, "sysctl", "-q", "-w", f"{key}={value}"], what=f"{h.name}: sysctl {key}"
            )
        _batch(
            ["tc", "-n", h.netns],
            [
                " ".join(["qdisc add dev", getattr(h, role).ifname, "root tbf", *tbf_args(rate)])
                for role, rate in rates.items()
            ],
        )
        if scn.fast_hop_mtu:
            segment_on_the_wire(h.netns, h.fast.ifname)


# Segmentation offloads: off, the stack hands the link frames of at most its MTU.
SEGMENTATION_OFFLOADS = ("tx-generic-segmentation", "tx-tcp-segmentation", "tx-tcp6-segmentation")


def segment_on_the_wire(netns: str, ifname: str) -> None:
    """A real NIC segments TCP before the wire, so a switch sees frames of the link's MTU and drops
    those above its own. A veth passes its GSO super-packets whole, and a veth or bridge port lets
    any GSO packet through whatever its MTU: a 1500-byte hop would pass most of a 9000-byte TCP
    stream and drop only its single-segment packets (a probe that passes now and then). With the
    offloads off, every frame meets the hop's MTU, as on a real switch."""
    from pyroute2.ethtool import Ethtool
    from pyroute2.netns import popns, pushns

    pushns(netns)
    try:
        with Ethtool() as ethtool:
            features = ethtool.get_features(ifname)
            for name in SEGMENTATION_OFFLOADS:
                features.features[name].enable = False
            ethtool.set_features(ifname, features)
    finally:
        popns()


def _create_switch(scn: Scenario, roles: list[str], rates: dict[str, str]) -> None:
    """One bridge per switched network. Its ports take the largest frame any host may send
    (a real switch set up for jumbo frames), or the scenario's fast_hop_mtu on the fast one;
    each port is shaped at its network's rate toward its host, as the host's end is toward
    the switch, so a host receiving from several peers at once still gets one link's worth."""
    cmds, shaping = [], []
    for role in roles:
        bridge = layout.switch_bridge(role)
        mtu = scn.fast_hop_mtu if role == "fast" and scn.fast_hop_mtu else _largest_mtu(scn, role)
        cmds.append(f"link add {bridge} type bridge")
        for h in scn.lab_hosts:
            port = h.switch_port(role)
            cmds.append(f"link set {port} master {bridge} mtu {mtu} up")
            shaping.append(" ".join(["qdisc add dev", port, "root tbf", *tbf_args(rates[role])]))
        cmds.append(f"link set {bridge} mtu {mtu} up")
    _batch(["ip", "-n", layout.SWITCH_NS], cmds)
    _batch(["tc", "-n", layout.SWITCH_NS], shaping)


def _largest_mtu(scn: Scenario, role: str) -> int:
    return max([DEFAULT_MTU, *(_tweak(scn, h, role).mtu or DEFAULT_MTU for h in scn.lab_hosts)])


def ends_with_carrier(scn: Scenario) -> dict[str | None, set[str]]:
    """Per namespace (None: the root one), the link ends that must reach carrier: every end whose
    own side and whose peer the scenario leaves up. A veth end reports NO-CARRIER until its
    peer is up, which takes a moment after `ip link set up`."""
    hosts = scn.lab_hosts
    ends: dict[str | None, set[str]] = {None: {layout.BRIDGE, layout.DNS_PEER}, layout.DNS_NS: {layout.DNS_IF}}
    for h in hosts:
        ends[h.netns] = set()
    for role in ROLES:
        if scn.switched(role):  # a host's link and its switch port need only each other
            for h in hosts:
                if not _tweak(scn, h, role).down:
                    ends[h.netns].add(getattr(h, role).ifname)
                    ends.setdefault(layout.SWITCH_NS, set()).add(h.switch_port(role))
        elif not any(_tweak(scn, h, role).down for h in hosts):
            for h in hosts:
                ends[h.netns].add(getattr(h, role).ifname)
    for h in hosts:
        if not _tweak(scn, h, "mgmt").down:
            ends[h.netns].add(h.mgmt.ifname)
            ends[None].add(h.mgmt_peer)
    return ends


def without_carrier(ends: dict[str | None, set[str]]) -> list[str]:
    """`namespace/link (OPERSTATE)` for every expected end that is not operationally up yet."""
    from pyroute2 import IPRoute

    pending = []
    for netns, names in ends.items():
        with IPRoute(netns=netns, flags=0) if netns else IPRoute() as ipr:
            states = {link.get("IFLA_IFNAME"): link.get("IFLA_OPERSTATE") for link in ipr.get_links()}
        pending += [
            f"{netns or 'root'}/{name} ({states.get(name, 'absent')})"
            for name in sorted(names)
            if states.get(name) != "UP"
        ]
    return pending


def wait_carrier(scn: Scenario, timeout: float) -> None:
    """Return once every link the scenario leaves up has carrier on both ends."""
    ends = ends_with_carrier(scn)
    pending: list[str] = []

    def all_up() -> bool:
        pending[:] = without_carrier(ends)
        return not pending

    try:
        procs.wait_for(all_up, "links", timeout)
    except LabError:
        raise LabError(f"links still without carrier after {timeout:.0f} s: {', '.join(pending)}") from None


def _tweak(scn: Scenario, h: layout.Host, role: str) -> LinkTweak:
    return scn.hosts[h.name].links.get(role) or LinkTweak()


def load_firewall(h: layout.Host, ruleset: str) -> None:
    """Load a host's nft ruleset inside its namespace (a ruleset is per network namespace)."""
    if not ruleset.strip():
        return
    path = h.dir / "nftables.conf"
    path.write_text("flush ruleset\n" + ruleset)
    procs.run(["ip", "netns", "exec", h.netns, "nft", "-f", str(path)], what=f"{h.name}: loading nftables ruleset")


def destroy() -> None:
    """Delete every namespace, the bridge and any stray root-side veth; quiet when absent."""
    for ns in layout.namespaces():
        if procs.netns_inode(ns) is not None:
            procs.run(["ip", "netns", "del", ns])
    for dev in [layout.BRIDGE, layout.DNS_PEER, *(h.mgmt_peer for h in layout.ALL_HOSTS.values())]:
        if Path(f"/sys/class/net/{dev}").exists():
            with contextlib.suppress(LabError):
                procs.run(["ip", "link", "del", dev])


def exists() -> bool:
    return any(procs.netns_inode(ns) is not None for ns in layout.namespaces()) or os.path.exists(
        f"/sys/class/net/{layout.BRIDGE}"
    )


def _batch(prefix: list[str], commands: list[str]) -> None:
    procs.run([*prefix, "-batch", "-"], input="\n".join(commands) + "\n", what=" ".join(prefix) + " set-up")
