"""The lab's fixed shape as data: names, links, addresses and where each host's files live.

Everything else (network set-up, daemons, DNS, scenarios) reads from here, so an address or a
path is spelled once. Only documentation ranges and loopback are ever used.
"""

from dataclasses import dataclass
from pathlib import Path

from migdoctor.lab.errors import LabError

STATE_DIR = Path("/run/migdoctor-lab")
# Survives `lab down` on purpose: libvirtd's qemu capabilities probe costs ~1.5 s per start and
# libvirt itself invalidates the cache when qemu, libvirtd or the kernel change.
CACHE_DIR = Path("/var/cache/migdoctor-lab")

PREFIX = "mdlab"
ZONE = "lab.test"
# `lab up --hosts N` runs the first N of these; the default lab is the first two.
NAMES = ("hosta", "hostb", "hostc", "hostd")
DEFAULT_HOSTS = 2
HOSTS = NAMES[:DEFAULT_HOSTS]

LAN_NET = "192.0.2.0/24"
FAST_NET = "198.51.100.0/24"
MGMT_NET = "203.0.113.0/24"
PREFIXLEN = 24
# IPv6 (documentation prefix 2001:db8::/32) on the LAN and the fast link, for the scenarios that
# ask for it; the management link and the DNS server stay IPv4.
LAN6_NET = "2001:db8:0:2::/64"
FAST6_NET = "2001:db8:0:100::/64"
PREFIXLEN6 = 64

BRIDGE = f"{PREFIX}-mgmt"
# The management bridge in the root namespace holds a /26 (.0-.63: the hosts, the DNS server and
# itself), not the /24: a route for all of 203.0.113.0/24 there would capture any address this
# machine reaches in it (the package proxy of the machines this was built on sits at .80).
BRIDGE_IP = "203.0.113.62"
BRIDGE_PREFIXLEN = 26
DNS_NS = f"{PREFIX}-dns"
DNS_IF = "dns-mgmt"
DNS_PEER = f"{PREFIX}-dns-mgmt"
DNS_IP = "203.0.113.53"
DNS_NAME = f"ns.{ZONE}"
# The switches: one bridge per network (lan, fast) in a namespace of its own. Two hosts are
# cabled point to point unless a scenario puts a hop with its own MTU on the fast path
# (fast_hop_mtu); three or more always meet on the switches. Named "hop" since jumbo-path had it.
SWITCH_NS = f"{PREFIX}-hop"

SSH_PORT = 22

# Paths a host sees as its own: bind-mounted from its directory under STATE_DIR.
PRIVATE_DIRS = {
    "etc-libvirt": "/etc/libvirt",
    "run-libvirt": "/run/libvirt",
    "lib-libvirt": "/var/lib/libvirt",
    "log-libvirt": "/var/log/libvirt",
    "cache-libvirt": "/var/cache/libvirt",
}
XEN_DIR = ("etc-xen", "/etc/xen")
# Per-host only when a scenario asks: TLS certificates, and root's own ssh keys and known_hosts.
PKI_DIR = ("pki", "/etc/pki")
ROOT_SSH_DIR = ("root-ssh", "/root/.ssh")
# sshd insists on its privilege-separation directory; an empty one is all it needs.
SSHD_PRIVSEP = ("sshd-empty", "/run/sshd")
# A host whose scenario runs real firewall tools keeps what they write to itself: copies of the
# machine's firewalld and ufw configuration (`ufw enable` sets ENABLED=yes in ufw.conf, `ufw
# default` edits /etc/default/ufw) and empty run directories for its own D-Bus system bus
# (firewall-cmd reaches firewalld through /run/dbus/system_bus_socket) and firewalld.
FIREWALL_STATE = {"etc-firewalld": "/etc/firewalld", "etc-ufw": "/etc/ufw", "default-ufw": "/etc/default/ufw"}
FIREWALL_RUN = {"run-dbus": "/run/dbus", "run-firewalld": "/run/firewalld"}
# Lock files ufw and iptables create on the shared /run: `down` removes those `up` did not find.
FIREWALL_LOCKS = ("/run/ufw.lock", "/run/xtables.lock")
# Guest disks. The shared directory is one directory of the machine's own filesystem (ext4 here:
# local, so libvirt does not count it as shared, and O_DIRECT works for cache='none'),
# bind-mounted into every host a scenario gives shared_storage: the same storage, proven by a
# marker, that libvirt's rule still calls unsafe. A local disk sits in the host's own
# /var/lib/libvirt/images, which no other host sees.
SHARED_GUEST_DIR = ("shared-guests", "/srv/migdoctor-lab-shared")  # under STATE_DIR, not per host
LOCAL_GUEST_DIR = ("lib-libvirt/images", "/var/lib/libvirt/images")
# Root's home as a fresh hypervisor has it (empty), not this machine's: its shell profile would
# run in every SSH session (a pyenv set-up here: 0.15 s and another python3 first on PATH).
ROOT_HOME = ("root-home", "/root")


@dataclass(frozen=True)
class Link:
    """One end of a lab link as a host sees it."""

    role: str  # lan | fast | mgmt
    ifname: str
    ip: str
    dns_name: str
    ip6: str = ""  # its IPv6 address where a scenario turns IPv6 on; none on mgmt

    @property
    def cidr(self) -> str:
        return f"{self.ip}/{PREFIXLEN}"

    @property
    def cidr6(self) -> str:
        return f"{self.ip6}/{PREFIXLEN6}"


@dataclass(frozen=True)
class Host:
    """A lab hypervisor: its names, namespace, links and private directories."""

    name: str
    letter: str
    index: int

    @property
    def fqdn(self) -> str:
        return f"{self.name}.{ZONE}"

    @property
    def fast_fqdn(self) -> str:
        return f"{self.name}-fast.{ZONE}"

    @property
    def netns(self) -> str:
        return f"{PREFIX}-{self.name}"

    @property
    def lan(self) -> Link:
        return Link("lan", f"{self.letter}-lan", f"192.0.2.{self.index}", self.fqdn, f"2001:db8:0:2::{self.index}")

    @property
    def fast(self) -> Link:
        return Link(
            "fast", f"{self.letter}-fast", f"198.51.100.{self.index}", self.fast_fqdn, f"2001:db8:0:100::{self.index}"
        )

    @property
    def mgmt(self) -> Link:
        return Link("mgmt", f"{self.letter}-mgmt", f"203.0.113.{self.index}", f"{self.name}-mgmt.{ZONE}")

    @property
    def links(self) -> tuple[Link, Link, Link]:
        return (self.lan, self.fast, self.mgmt)

    def switch_port(self, role: str) -> str:
        """The switch's end of this host's `role` veth, when that network runs through the switch."""
        return f"{role}-{self.letter}"

    @property
    def mgmt_peer(self) -> str:
        """The root-namespace end of the management veth, enslaved to the bridge."""
        return f"{PREFIX}-{self.letter}-mgmt"

    @property
    def dir(self) -> Path:
        return STATE_DIR / self.name

    @property
    def run_libvirt(self) -> Path:
        return self.dir / "run-libvirt"

    @property
    def libvirt_sock(self) -> Path:
        return self.run_libvirt / "libvirt-sock"

    @property
    def netns_etc(self) -> Path:
        """Files `ip netns exec` bind-mounts over /etc for this namespace."""
        return Path("/etc/netns") / self.netns


def switch_bridge(role: str) -> str:
    return f"{role}-br"


# Every host a lab may have: `down` removes them all, whatever N the lab was brought up with.
ALL_HOSTS = {name: Host(name, name[-1], i) for i, name in enumerate(NAMES, start=1)}
# The default lab's two, as tests and tools written for two hosts know them.
LAB_HOSTS = {name: ALL_HOSTS[name] for name in HOSTS}


def host(name: str) -> Host:
    """Look a lab host up by name, with the one-line error the CLI shows."""
    try:
        return ALL_HOSTS[name]
    except KeyError:
        raise LabError(f"unknown lab host {name!r} (choose from {', '.join(NAMES)})") from None


def first_hosts(count: int) -> list[Host]:
    """The hosts of an N-host lab: hosta onwards."""
    if not 2 <= count <= len(NAMES):
        raise LabError(f"a lab has 2 to {len(NAMES)} hosts, not {count}")
    return [ALL_HOSTS[name] for name in NAMES[:count]]


def namespaces() -> list[str]:
    """Every network namespace any lab creates, hosts first."""
    return [h.netns for h in ALL_HOSTS.values()] + [DNS_NS, SWITCH_NS]
