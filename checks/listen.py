"""Where the destination listens: QEMU's incoming migration socket and libvirt's remote port."""

from __future__ import annotations

from typing import Any

from migdoctor.checkapi import Evidence, Outcome, Registry, Skip, failed, passed, warned
from migdoctor.judging.endpoints import dst_migration_addresses
from migdoctor.judging.facts import (
    address_of,
    host_port,
    interface_addresses,
    is_address,
    name_lookup,
    remote_endpoint,
    setting,
)
from migdoctor.judging.fixes import qemu_conf_line
from migdoctor.judging.pair import Pair

registry = Registry(order=40)
WILDCARDS = {"", "0.0.0.0", "::", "[::]"}
SSH_TRANSPORTS = ("ssh", "libssh", "libssh2")


@registry.check(
    "listen.migration-address",
    "QEMU's incoming migration listens on the destination's migration address",
    "high",
    needs=("dst.config.qemu_conf", "dst.links"),
    description=(
        "qemu.conf's `migration_address` is not an address of the destination, or is off the migration "
        "network (a wildcard address warns)"
    ),
    rationale=(
        "QEMU binds the incoming migration to `migration_address`: one the host lacks fails with `Failed to "
        "bind socket: Cannot assign requested address`, one on the LAN invites the stream there "
        "(autotest/tp-libvirt PR 5341)"
    ),
    fix="set `migration_address` in the destination's qemu.conf to its own address on the migration network",
    scope="destination",
)
def migration_address(pair: Pair) -> Outcome:
    address = setting(pair.dst, "qemu_conf", "migration_address", "").strip("[]")
    expected = [a for _, a in dst_migration_addresses(pair)]
    fix = qemu_conf_line(pair, "migration_address", expected[0]) if expected else None
    if address in WILDCARDS:
        return warned(
            f"{pair.dst_label}'s qemu.conf leaves migration_address unset/wildcard: incoming migrations listen on every network",
            Evidence(pair.dst_label, "qemu.conf migration_address", address or "(unset: 0.0.0.0)", expected),
            remediation=fix,
        )
    own = {a: link for link, a, _ in interface_addresses(pair.dst)}
    if address not in own:
        return failed(
            f"{pair.dst_label}'s migration_address {address} is not assigned on {pair.dst_label}: incoming migrations will fail to bind",
            Evidence(pair.dst_label, "qemu.conf migration_address", address, expected or "an address of this host"),
            remediation=fix,
        )
    network = pair.intent.migration_network
    if network is None:
        raise Skip("no migration network given or inferable (use --migration-network CIDR)")
    if address_of(address) not in network:
        return failed(
            f"{pair.dst_label}'s migration_address {address} ({own[address]}) is off the migration network {network}",
            Evidence(pair.dst_label, "qemu.conf migration_address", address, expected),
            remediation=fix,
        )
    return passed(f"{pair.dst_label} binds incoming migrations to {address} on {own[address]}")


def listeners_on(facts: dict[str, Any], port: int) -> list[dict[str, Any]]:
    return [item for item in facts.get("listeners") or [] if item["port"] == port]


def reachable(listeners: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The listeners another host can connect to: a socket bound to loopback takes no remote
    connection (nor one whose address is not one: listen.libvirt-remote names it)."""
    return [item for item in listeners if is_address(item["address"]) and not address_of(item["address"]).is_loopback]


def takes(bound: str, arrives_at: set[str]) -> bool:
    """Whether a socket bound to BOUND takes connections to one of ARRIVES_AT: "::" takes both
    families (bindv6only is off by default), 0.0.0.0 only IPv4, an address only itself."""
    if bound in ("", "::", "[::]"):
        return True
    wanted = {address_of(address) for address in arrives_at}
    if bound == "0.0.0.0":
        return any(address.version == 4 for address in wanted)
    return address_of(bound.strip("[]")) in wanted


def uri_addresses(pair: Pair, transport: str, host: str) -> set[str] | None:
    """Where the source's connection to HOST arrives, when that can be known (None: unknown). Over
    ssh, the client's ssh_config may map HOST anywhere, so only an address literal is taken."""
    if is_address(host):
        return {host}
    if transport in SSH_TRANSPORTS:
        return None
    lookup = name_lookup(pair.src, host)
    addresses = set(filter(is_address, (lookup or {}).get("getaddrinfo", {}).get("addresses") or []))
    return addresses or None


@registry.check(
    "listen.libvirt-remote",
    "The destination listens where the source's libvirt connection arrives",
    "high",
    needs=("dst.listeners", "dst.config.libvirtd_conf"),
    description="nothing listens on the destination where the source's libvirt URI (tcp, tls or ssh) arrives",
    rationale=(
        "A peer-to-peer migration starts with the source's libvirtd connecting to the destination's: libvirtd "
        "without `--listen`, or a socket unit owning the port, ends it with `Migration was refused "
        "connection to destination` or `unable to connect to server ... Connection refused` "
        "(apache/cloudstack 9965, 9802; retspen/webvirtcloud 652)"
    ),
    fix=(
        "set `listen_tcp = 1` or `listen_tls = 1` in the destination's libvirtd.conf and start libvirtd with "
        "`--listen` (or enable libvirtd-tcp.socket / libvirtd-tls.socket); for qemu+ssh, start sshd"
    ),
)
def libvirt_remote(pair: Pair) -> Outcome:
    uri = pair.intent.dst_libvirt_uri
    if not uri:
        raise Skip(f"no libvirt URI for {pair.dst_label} (set libvirt_uri in the inventory)")
    transport, port, host = remote_endpoint(uri)
    listening = listeners_on(pair.dst, port)
    arrives_at = uri_addresses(pair, transport, host)
    found = [item for item in reachable(listening) if arrives_at is None or takes(item["address"], arrives_at)]
    if found:
        where = ", ".join(
            f"{host_port(item['address'], port)} ({(item['process'] or {}).get('name', '?')})" for item in found
        )
        return passed(f"{pair.dst_label} listens for {transport} on {where}")
    malformed = [item["address"] for item in listening if not is_address(item["address"])]
    if malformed:
        return warned(
            f"{pair.dst_label}'s listener on port {port} is bound to {malformed[0]!r}, not an address: whether it "
            f"takes the connection {uri} makes cannot be told",
            Evidence(pair.dst_label, f"listeners (port {port}) address", malformed[0], "an IP address"),
        )
    if transport in SSH_TRANSPORTS:
        remediation = f"{pair.dst_label}: start sshd (port {port})"
    else:
        key = "listen_tcp" if transport == "tcp" else "listen_tls"
        remediation = f"{pair.dst_label}:/etc/libvirt/libvirtd.conf: {key} = 1, and start libvirtd with --listen (or enable libvirtd-{transport}.socket)"
    where = f" ({', '.join(sorted(arrives_at))})" if arrives_at else ""
    return failed(
        f"nothing listens on {pair.dst_label}:{port}{where}, where {uri} connects",
        Evidence(
            pair.dst_label,
            f"TCP listeners on port {port}",
            [host_port(item["address"], port) for item in listening],
            f"a listener on {port} another host can reach",
        ),
        Evidence(
            pair.dst_label,
            "libvirtd.conf listen_tcp/listen_tls",
            {k: setting(pair.dst, "libvirtd_conf", k) for k in ("listen_tcp", "listen_tls")},
        ),
        remediation=remediation,
    )
