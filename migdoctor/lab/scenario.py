"""Scenarios are data: one TOML file each under scenarios/, layered over scenarios/_base.toml.

A scenario file holds an optional `description`, a `[dns.records]` table (name -> list of
addresses; replaces the default for that name, `[]` removes it), an `[all]` table applied to
every host and `[hosts.NAME]` tables that override it key by key. A host table may set:

    hostname       the host's hostname (UTS namespace)
    qemu_conf      table written as /etc/libvirt/qemu.conf
    qemu_conf_edited  settings an admin saved into qemu.conf after libvirtd started: written over
                   qemu_conf once the daemons are up, so they wait for the next restart (a
                   setting libvirtd would refuse to start with can only be met this way)
    libvirtd_conf  table written as /etc/libvirt/libvirtd.conf
    hosts_lines    extra /etc/hosts lines
    nftables       the host's whole nft ruleset (empty: none)
    links          {lan|fast|mgmt} = {mtu = N, down = true, ipv6 = true, ipv4 = false}: ipv6 adds
                   the link's IPv6 address (lan, fast), ipv4 = false leaves its IPv4 one off;
                   bridge = "br-mig" makes the link a port of that bridge, which takes its addresses
    routes         `ip route add` arguments, one string per route
    xend_config    text for /etc/xen/xend-config.sxp (the host gets a private /etc/xen)
    sysctls        {"net.ipv4.ip_local_reserved_ports" = "49152-49215"}: per-namespace sysctls
    kvm            false: the host's /dev/kvm is covered, as on a machine with VT-x off in firmware
    peer_libvirt_uri  the URI other hosts' libvirtd open to migrate here (inventory peer_libvirt_uri)
    tls            {server_names = [...], valid_days = N}: the host gets a private /etc/pki with a
                   server certificate naming server_names (negative valid_days: expired) and a
                   client certificate, both from the lab CA, for libvirt and QEMU
    root_ssh       {known_hosts = [names], stale = [names]}: the host gets its own /root/.ssh with
                   the lab's client key and known_hosts lines for those names (stale: a wrong key)
    resolver_options  the `options` line of its resolv.conf ("" for glibc's defaults: 5 s, 2 attempts)
    nftables_edited   a ruleset loaded over nftables once the lab is up: a fault that would keep
                   `lab up` from seeing the host ready (its DNS answers dropped)
    firewalld      true: the host runs its own D-Bus system bus and firewalld (nftables backend)
    firewall_setup commands run in the host, in order, once its daemons answer (firewalld's
                   `--state` says running): [["ufw", "--force", "enable"], ["firewall-cmd", ...]];
                   the firewall as an admin's own tools leave it (firewall-cmd, ufw, iptables-legacy)
    bridges        names of bridges (up, no ports) for guests' interfaces: ["br-app"]
    shared_storage true: the lab's shared guest directory (one directory of the machine's own
                   local filesystem) is bind-mounted into the host at guests.SHARED_DIR

A host with `firewalld` or a `firewall_setup` gets private copies of the machine's /etc/firewalld,
/etc/ufw and /etc/default/ufw and empty /run/dbus and /run/firewalld: what these tools write
stays in the host and goes with it.

A scenario may also start guests once its hosts are up, removed with the lab (see guests.py):
`[guests.NAME]` with `host` (default hosta), `memory_mib` (64), `disk` ("shared": a raw image
in the shared guest directory, "local": one in the host's own /var/lib/libvirt/images), `cache`
(the disk's cache mode), `bridge` (an interface on that bridge), `cpu` (a CPU mode such as
"host-passthrough") and `dirty_mib_s`: the guest boots the lab's dirtying payload instead of its
firmware, which keeps `working_set_mib` of its RAM in use (default: all but 32 MiB) and writes
to that many MiB of it each second.

A scenario may also set `fast_hop_mtu`: the fast link then runs through a switch (a bridge in a
namespace of its own) whose ports have that MTU. And `migration_network` (the inventory's default; one prefix, or an IPv4 and
an IPv6 one separated by a comma). And `host_count`: how many hosts it brings up unless `lab up
--hosts` says otherwise (2 when unset; a scenario that configures hostc needs at least 3). Tables merge deeply (base, then scenario; `all`, then `hosts.NAME`); other values replace.
Strings may use %{placeholder}s naming this host's facts (see `placeholders`).
"""

import re
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from migdoctor.lab import layout, pki, ssh
from migdoctor.lab.errors import LabError

BASE = "_base"
HOST_KEYS: dict[str, type] = {
    "hostname": str,
    "qemu_conf": dict,
    "qemu_conf_edited": dict,
    "libvirtd_conf": dict,
    "hosts_lines": list,
    "nftables": str,
    "links": dict,
    "routes": list,
    "xend_config": str,
    "sysctls": dict,
    "kvm": bool,
    "peer_libvirt_uri": str,
    "tls": dict,
    "root_ssh": dict,
    "resolver_options": str,
    "nftables_edited": str,
    "firewalld": bool,
    "firewall_setup": list,
    "bridges": list,
    "shared_storage": bool,
}
GUEST_KEYS: dict[str, type | tuple[type, ...]] = {
    "host": str,
    "memory_mib": int,
    "disk": str,
    "cache": str,
    "bridge": str,
    "cpu": str,
    "dirty_mib_s": (int, float),
    "working_set_mib": int,
}
DISK_PLACES = ("shared", "local")
LINK_KEYS: dict[str, type] = {"mtu": int, "down": bool, "ipv6": bool, "ipv4": bool, "bridge": str}
TOP_KEYS = {"description", "dns", "all", "hosts", "migration_network", "fast_hop_mtu", "host_count", "guests"}
_PLACEHOLDER = re.compile(r"%\{(\w+)\}")


@dataclass(frozen=True)
class LinkTweak:
    mtu: int | None = None
    down: bool = False
    ipv6: bool = False
    ipv4: bool = True
    bridge: str = ""  # the link becomes the only port of this bridge, which takes its addresses


@dataclass(frozen=True)
class HostConfig:
    """What a scenario makes of one host, placeholders already filled in."""

    hostname: str
    qemu_conf: dict[str, Any]
    libvirtd_conf: dict[str, Any]
    hosts_lines: list[str] = field(default_factory=list)
    nftables: str = ""
    links: dict[str, LinkTweak] = field(default_factory=dict)
    routes: list[str] = field(default_factory=list)
    xend_config: str | None = None
    sysctls: dict[str, str] = field(default_factory=dict)
    qemu_conf_edited: dict[str, Any] = field(default_factory=dict)
    kvm: bool = True
    peer_libvirt_uri: str | None = None
    tls: pki.TlsSpec | None = None
    root_ssh: ssh.RootSsh | None = None
    resolver_options: str = "timeout:1 attempts:2"
    nftables_edited: str = ""
    firewalld: bool = False
    firewall_setup: list[list[str]] = field(default_factory=list)
    bridges: list[str] = field(default_factory=list)
    shared_storage: bool = False

    @property
    def firewall_tools(self) -> bool:
        """Whether real firewall tools run in this host (it then keeps their state private)."""
        return self.firewalld or bool(self.firewall_setup)

    @property
    def programs(self) -> set[str]:
        """The programs this host's scenario runs beyond every host's daemons."""
        needed = {"dbus-daemon", "firewalld", "firewall-cmd"} if self.firewalld else set()
        return needed | {argv[0] for argv in self.firewall_setup}


@dataclass(frozen=True)
class GuestSpec:
    """A guest a scenario starts once its hosts are up (made by guests.py)."""

    name: str
    host: str = layout.NAMES[0]
    memory_mib: int = 64
    disk: str | None = None  # one of DISK_PLACES
    cache: str | None = None
    bridge: str | None = None
    cpu: str | None = None  # a CPU mode
    dirty_mib_s: float | None = None  # boots guests.PAYLOAD, dirtying this much memory a second
    working_set_mib: int | None = None


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    hosts: dict[str, HostConfig]  # the lab's hosts, hosta first
    dns_records: dict[str, list[str]]
    migration_network: str = layout.FAST_NET
    fast_hop_mtu: int | None = None
    guests: tuple[GuestSpec, ...] = ()

    @property
    def lab_hosts(self) -> list[layout.Host]:
        return [layout.ALL_HOSTS[name] for name in self.hosts]

    def switched(self, role: str) -> bool:
        """Whether network `role` runs through the switch rather than one point-to-point veth."""
        return len(self.hosts) > 2 or (role == "fast" and self.fast_hop_mtu is not None)


def available() -> dict[str, str]:
    """Scenario names with their descriptions (and host count where it is not 2); files
    starting with `_` are not scenarios."""
    names = sorted(p.name[:-5] for p in _dir().iterdir() if p.name.endswith(".toml") and not p.name.startswith("_"))
    found = {}
    for n in names:
        doc = _read(n)
        count = doc.get("host_count", layout.DEFAULT_HOSTS)
        found[n] = doc.get("description", "") + (f" ({count} hosts)" if count != layout.DEFAULT_HOSTS else "")
    return found


def load(name: str, host_count: int | None = None) -> Scenario:
    """Read, validate and resolve a scenario for each host of a lab of `host_count` hosts
    (default: the scenario's own host_count, else 2)."""
    if name.startswith("_") or not (_dir() / f"{name}.toml").is_file():
        raise LabError(f"unknown scenario {name!r} (choose from {', '.join(available())})")
    doc = _merge(_read(BASE), _read(name))
    unknown = set(doc) - TOP_KEYS
    if unknown:
        raise LabError(f"scenario {name}: unknown key(s) {', '.join(sorted(unknown))}")
    default_count = doc.get("host_count", layout.DEFAULT_HOSTS)
    if not isinstance(default_count, int) or not 2 <= default_count <= len(layout.NAMES):
        raise LabError(f"scenario {name}: host_count must be 2 to {len(layout.NAMES)}")
    lab_hosts = layout.first_hosts(default_count if host_count is None else host_count)
    per_host = doc.get("hosts", {})
    stray = set(per_host) - set(layout.NAMES)
    if stray:
        raise LabError(f"scenario {name}: unknown host(s) {', '.join(sorted(stray))}")
    needed = max(layout.NAMES.index(h) + 1 for h in [layout.NAMES[0], *per_host])
    if needed > len(lab_hosts):
        raise LabError(f"scenario {name} configures {layout.NAMES[needed - 1]}: it needs --hosts {needed} or more")
    hosts = {h.name: _host_config(name, h, _merge(doc.get("all", {}), per_host.get(h.name, {}))) for h in lab_hosts}
    network = doc.get("migration_network", layout.FAST_NET)
    if not isinstance(network, str):
        raise LabError(f"scenario {name}: migration_network must be a string")
    hop_mtu = doc.get("fast_hop_mtu")
    if hop_mtu is not None and (not isinstance(hop_mtu, int) or not 576 <= hop_mtu <= 65535):
        raise LabError(f"scenario {name}: fast_hop_mtu must be an MTU (576-65535)")
    records = _dns_records(name, doc, lab_hosts)
    guests = _guests(name, doc.get("guests", {}), hosts)
    return Scenario(name, doc.get("description", ""), hosts, records, network, hop_mtu, guests)


def default_dns_records(lab_hosts: list[layout.Host]) -> dict[str, list[str]]:
    """Every lab name and its address: forward and (first name wins) reverse."""
    records = {layout.DNS_NAME: [layout.DNS_IP]}
    for h in lab_hosts:
        for link in h.links:
            records[link.dns_name] = [link.ip]
    return records


def placeholders(h: layout.Host, qemu_conf: dict[str, Any]) -> dict[str, str]:
    """The %{...} names a scenario string may use for host `h`."""
    values = {"name": h.name, "fqdn": h.fqdn, "fast_fqdn": h.fast_fqdn, "zone": layout.ZONE}
    for link in h.links:
        values[f"{link.role}_if"] = link.ifname
        values[f"{link.role}_ip"] = link.ip
        if link.ip6:
            values[f"{link.role}_ip6"] = link.ip6
    low = qemu_conf.get("migration_port_min", 49152)
    high = qemu_conf.get("migration_port_max", 49215)
    values["migration_ports"] = f"{low}-{high}"
    return values


def _dir():
    return resources.files("migdoctor.lab") / "scenarios"


def _read(name: str) -> dict[str, Any]:
    try:
        return tomllib.loads((_dir() / f"{name}.toml").read_text())
    except tomllib.TOMLDecodeError as e:
        raise LabError(f"scenario {name}: {e}") from None


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """Deep-merge tables; anything else in `over` replaces."""
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _host_config(scenario: str, h: layout.Host, raw: dict[str, Any]) -> HostConfig:
    where = f"scenario {scenario}, host {h.name}"
    for key, value in raw.items():
        if key not in HOST_KEYS:
            raise LabError(f"{where}: unknown key {key!r}")
        if not isinstance(value, HOST_KEYS[key]):
            raise LabError(f"{where}: {key} must be a {HOST_KEYS[key].__name__}")
    values = placeholders(h, raw.get("qemu_conf", {}))
    raw = _fill(raw, values, where)
    return HostConfig(
        hostname=raw.get("hostname", h.fqdn),
        qemu_conf=raw.get("qemu_conf", {}),
        libvirtd_conf=raw.get("libvirtd_conf", {}),
        hosts_lines=[str(x) for x in raw.get("hosts_lines", [])],
        nftables=raw.get("nftables", ""),
        links=_links(where, raw.get("links", {})),
        routes=[str(x) for x in raw.get("routes", [])],
        xend_config=raw.get("xend_config"),
        sysctls={str(k): str(v) for k, v in raw.get("sysctls", {}).items()},
        qemu_conf_edited=raw.get("qemu_conf_edited", {}),
        kvm=raw.get("kvm", True),
        peer_libvirt_uri=raw.get("peer_libvirt_uri"),
        tls=pki.spec(where, raw["tls"]) if "tls" in raw else None,
        root_ssh=ssh.root_ssh_spec(where, raw["root_ssh"]) if "root_ssh" in raw else None,
        resolver_options=raw.get("resolver_options", HostConfig.resolver_options),
        nftables_edited=raw.get("nftables_edited", ""),
        firewalld=raw.get("firewalld", False),
        firewall_setup=_commands(where, "firewall_setup", raw.get("firewall_setup", [])),
        bridges=[str(x) for x in raw.get("bridges", [])],
        shared_storage=raw.get("shared_storage", False),
    )


def _guests(scenario: str, raw: Any, hosts: dict[str, HostConfig]) -> tuple[GuestSpec, ...]:
    """The scenario's guests, each on a host of the lab, its disk in a place that host has."""
    if not isinstance(raw, dict):
        raise LabError(f"scenario {scenario}: guests must be a table of guest tables")
    found = []
    for name, settings in raw.items():
        where = f"scenario {scenario}, guest {name}"
        if not isinstance(settings, dict):
            raise LabError(f"{where}: not a table")
        for key, value in settings.items():
            if key not in GUEST_KEYS or not isinstance(value, GUEST_KEYS[key]) or isinstance(value, bool):
                raise LabError(f"{where}: {key!r} is not one of {', '.join(GUEST_KEYS)} with its type")
        spec = GuestSpec(name, **settings)
        if spec.host not in hosts:
            raise LabError(f"{where}: host {spec.host} is not in this lab")
        if spec.disk is not None and spec.disk not in DISK_PLACES:
            raise LabError(f"{where}: disk must be one of {', '.join(DISK_PLACES)}")
        if spec.disk == "shared" and not hosts[spec.host].shared_storage:
            raise LabError(f"{where}: a shared disk needs shared_storage = true on {spec.host}")
        if spec.dirty_mib_s is not None and (spec.dirty_mib_s < 0 or spec.memory_mib < 48):
            raise LabError(f"{where}: a dirtying guest needs memory_mib of 48 or more and dirty_mib_s not negative")
        if spec.bridge is not None and spec.bridge not in hosts[spec.host].bridges:
            raise LabError(f"{where}: {spec.host} has no bridge {spec.bridge} (add it to its bridges)")
        found.append(spec)
    return tuple(found)


def _commands(where: str, key: str, raw: list[Any]) -> list[list[str]]:
    """A list of argv lists, each a non-empty list of strings."""
    for argv in raw:
        if not isinstance(argv, list) or not argv or not all(isinstance(arg, str) for arg in argv):
            raise LabError(f"{where}: {key} must be a list of commands, each a list of strings: {argv!r}")
    return [list(argv) for argv in raw]


def _links(where: str, raw: dict[str, Any]) -> dict[str, LinkTweak]:
    tweaks = {}
    for role, settings in raw.items():
        if role not in ("lan", "fast", "mgmt") or not isinstance(settings, dict):
            raise LabError(f"{where}: links.{role} is not a link table (lan, fast or mgmt)")
        for key, value in settings.items():
            if key not in LINK_KEYS or not isinstance(value, LINK_KEYS[key]):
                raise LabError(
                    f"{where}: links.{role}.{key} is not one of mtu (int), down, ipv6, ipv4 (bool), bridge (str)"
                )
        if settings.get("ipv6") and role == "mgmt":
            raise LabError(f"{where}: links.mgmt has no IPv6 address (only lan and fast do)")
        tweaks[role] = LinkTweak(**settings)
    return tweaks


def _dns_records(scenario: str, doc: dict[str, Any], lab_hosts: list[layout.Host]) -> dict[str, list[str]]:
    records = default_dns_records(lab_hosts)
    for name, addresses in doc.get("dns", {}).get("records", {}).items():
        if not isinstance(addresses, list):
            raise LabError(f"scenario {scenario}: dns.records.{name} must be a list of addresses")
        if addresses:
            records[name] = [str(a) for a in addresses]
        else:
            records.pop(name, None)
    return records


def _fill(value: Any, values: dict[str, str], where: str) -> Any:
    """Replace %{name} in every string inside `value`."""
    if isinstance(value, str):

        def sub(m: re.Match[str]) -> str:
            if m.group(1) not in values:
                raise LabError(f"{where}: unknown placeholder %{{{m.group(1)}}}")
            return values[m.group(1)]

        return _PLACEHOLDER.sub(sub, value)
    if isinstance(value, dict):
        return {k: _fill(v, values, where) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, values, where) for v in value]
    return value
