"""What one host's facts record says: its settings as its daemons read them, the name it
advertises for the migration stream, its links and addresses, its look-ups of other hosts.
Pure queries over the record; a read-only record (a fleet judges each in hundreds of pairs) has
the costly ones computed once."""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Callable
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from migdoctor.checkapi import Skip
from migdoctor.frozen import FrozenDict

DEFAULT_PORT_MIN = 49152
DEFAULT_PORT_MAX = 49215
LIBVIRT_TCP_PORT = 16509
LIBVIRT_TLS_PORT = 16514
SSH_PORT = 22


@lru_cache(maxsize=8192)
def address_of(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    """TEXT parsed as an IP address once (ValueError when it is not): a fleet's pairs ask the
    same addresses over and over."""
    return ipaddress.ip_address(text)


@lru_cache(maxsize=8192)
def network_of(address: str, prefixlen: int) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    """The network an interface address with its prefix length is on, computed once."""
    return ipaddress.ip_network(f"{address}/{prefixlen}", strict=False)


def read_only_memo(function: Callable[..., Any]) -> Callable[..., Any]:
    """FUNCTION(facts, *args) computed once per read-only facts record (a FrozenDict:
    a fleet judges each host's record in hundreds of pairs); the entry holds the record, so its
    id is not reused while cached. Other records are computed every time."""
    cache: dict[tuple[Any, ...], tuple[Any, Any]] = {}

    @functools.wraps(function)
    def memoised(facts: Any, *args: Any) -> Any:
        if type(facts) is not FrozenDict:
            return function(facts, *args)
        key = (id(facts), *args)
        hit = cache.get(key)
        if hit is not None and hit[0] is facts:
            return hit[1]
        if len(cache) >= 4096:
            cache.clear()
        value = function(facts, *args)
        cache[key] = (facts, value)
        return value

    return memoised


def config_values(facts: dict[str, Any], name: str) -> dict[str, Any]:
    """Parsed values of one config file; empty when absent (defaults apply)."""
    record = (facts.get("config") or {}).get(name) or {}
    return record.get("values") or {}


def is_port(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def is_flag(value: Any) -> bool:
    return value in (0, 1) and not isinstance(value, float)


def is_word(value: Any) -> bool:
    """A name, address or user as one token: text without whitespace or control characters."""
    return isinstance(value, str) and 0 < len(value) <= 255 and value.isprintable() and not any(map(str.isspace, value))


def is_text(value: Any) -> bool:
    return isinstance(value, str) and value.isprintable()


# The settings migdoctor reads from a host, with the type the daemon itself accepts; a value of any
# other type (a list for a scalar, text for a number) is named by config.value-types and read as unset.
SETTINGS: dict[tuple[str, str], tuple[Callable[[Any], bool], str]] = {
    ("qemu_conf", "migration_port_min"): (is_port, "a whole number"),
    ("qemu_conf", "migration_port_max"): (is_port, "a whole number"),
    ("qemu_conf", "migration_host"): (is_word, "one host name or address"),
    ("qemu_conf", "migration_address"): (is_word, "one address"),
    ("qemu_conf", "user"): (is_word, "one user name"),
    ("libvirtd_conf", "listen_tcp"): (is_flag, "0 or 1"),
    ("libvirtd_conf", "listen_tls"): (is_flag, "0 or 1"),
    ("xend_config", "xend-relocation-server"): (is_word, "yes or no"),
    ("xend_config", "xend-relocation-address"): (is_text, "one address or interface name"),
    ("xend_config", "xend-relocation-hosts-allow"): (is_text, "space-separated regular expressions"),
}


@read_only_memo
def setting(facts: dict[str, Any], name: str, key: str, default: Any = None) -> Any:
    """A config value of the type its daemon accepts, else DEFAULT (unset, or of a wrong type:
    config.value-types fails on that, naming host, file and key)."""
    value = config_values(facts, name).get(key, default)
    accepts, _ = SETTINGS[(name, key)]
    return value if value is default or accepts(value) else default


@read_only_memo
def advertised_name(dst: dict[str, Any]) -> tuple[str, str]:
    """The name the destination hands the source for the migration stream, and where it comes from:
    qemu.conf migration_host, else libvirt's hostname (virGetHostname)."""
    migration_host = setting(dst, "qemu_conf", "migration_host")
    if migration_host:
        return str(migration_host), "/etc/libvirt/qemu.conf migration_host"
    libvirt = dst["identity"]["hypervisor"].get("libvirt") or {}
    return libvirt.get("hostname") or dst["identity"]["fqdn"], "hostname (migration_host unset)"


def port_range(dst: dict[str, Any]) -> tuple[int, int]:
    """qemu.conf's migration ports as set, however absurd (config.migration-port-range judges them)."""
    return (
        setting(dst, "qemu_conf", "migration_port_min", DEFAULT_PORT_MIN),
        setting(dst, "qemu_conf", "migration_port_max", DEFAULT_PORT_MAX),
    )


def valid_port_range(dst: dict[str, Any]) -> tuple[int, int]:
    """The port range for checks that go through it port by port: Skip when it is not a valid range,
    so no loop is ever bounded by a value read from a host."""
    first, last = port_range(dst)
    if not 1 <= first <= last <= 65535:
        raise Skip(f"migration port range {first}-{last} is not valid (config.migration-port-range says why)")
    return first, last


@read_only_memo
def interface_addresses(facts: dict[str, Any]) -> tuple[tuple[str, str, int], ...]:
    """(link, address, prefixlen) for every global address."""
    return tuple(
        (link["name"], address["address"], address["prefixlen"])
        for link in facts.get("links") or []
        for address in link["addresses"]
        if address["scope"] == 0
    )


@read_only_memo
def addresses_on(facts: dict[str, Any], network: Any) -> tuple[tuple[str, str], ...]:
    return tuple(
        (link, address) for link, address, _ in interface_addresses(facts) if network is not None and address in network
    )


def addresses_in(facts: dict[str, Any], network: Any) -> list[tuple[str, str]]:
    """(link, address) pairs of this host inside NETWORK (a list of the caller's own)."""
    return list(addresses_on(facts, network))


def link_named(facts: dict[str, Any], name: str | None) -> dict[str, Any] | None:
    return next((link for link in facts.get("links") or [] if link["name"] == name), None)


def link_of_address(facts: dict[str, Any], address: str) -> str | None:
    return next((link for link, own, _ in interface_addresses(facts) if own == address), None)


def name_lookup(facts: dict[str, Any], name: str) -> dict[str, Any] | None:
    return names_looked_up(facts).get(name)


def route_to(facts: dict[str, Any], destination: str) -> dict[str, Any] | None:
    return routes_looked_up(facts).get(destination)


@read_only_memo
def names_looked_up(facts: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The host's look-ups by name, the first of each (a fleet's host holds one per peer)."""
    return {item["name"]: item for item in reversed(facts["resolution"]["lookups"])}


@read_only_memo
def routes_looked_up(facts: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {item["destination"]: item for item in reversed(facts.get("route_lookups") or [])}


def effective_rate_mbps(link: dict[str, Any]) -> int | None:
    """What a link can carry: the lower of its speed and its shaping rate (either may be unknown)."""
    rates = [link.get("speed_mbps")]
    qdisc = link.get("qdisc") or {}
    if qdisc.get("rate_bps"):
        rates.append(qdisc["rate_bps"] // 1_000_000)
    known = [rate for rate in rates if rate is not None]  # shaping below 1 Mb/s counts as 0, not unknown
    return min(known) if known else None


def is_address(text: str) -> bool:
    try:
        return parses_as_address(text)
    except TypeError:  # not text at all
        return False


@lru_cache(maxsize=8192)
def parses_as_address(text: str) -> bool:
    """Cached both ways: a host name is asked about in every pair too."""
    try:
        address_of(text)
    except (ValueError, TypeError):
        return False
    return True


def host_port(host: str, port: int | str) -> str:
    """HOST:PORT as URIs and admins write it: an IPv6 address takes brackets."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def family_name(address: str) -> str:
    return f"IPv{address_of(address).version}"


def remote_endpoint(uri: str) -> tuple[str, int, str]:
    """(transport, port, host) of a libvirt URI: qemu+ssh arrives at sshd, qemu+tcp at 16509, TLS at 16514."""
    url = urlsplit(uri)
    transport = url.scheme.partition("+")[2] or ("tls" if url.hostname else "unix")
    default = {
        "ssh": SSH_PORT,
        "libssh": SSH_PORT,
        "libssh2": SSH_PORT,
        "tcp": LIBVIRT_TCP_PORT,
        "tls": LIBVIRT_TLS_PORT,
    }
    if transport not in default:
        raise Skip(f"libvirt URI {uri} is local ({transport}); no remote listener to check")
    return transport, url.port or default[transport], url.hostname or ""
