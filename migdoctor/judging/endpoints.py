"""Where a pair's migration stream goes: each host's addresses on the migration network, and the
address QEMU on the source connects to first."""

from __future__ import annotations

from migdoctor.checkapi import Skip
from migdoctor.judging.facts import addresses_in, advertised_name, family_name, is_address, name_lookup
from migdoctor.judging.pair import Pair, per_pair


def dst_migration_addresses(pair: Pair) -> list[tuple[str, str]]:
    """(link, address) of the destination on the migration network."""
    return addresses_in(pair.dst, pair.intent.migration_network)


def src_migration_addresses(pair: Pair) -> list[tuple[str, str]]:
    return addresses_in(pair.src, pair.intent.migration_network)


def first_answer(pair: Pair) -> str | None:
    """The address QEMU connects to first: the advertised address itself, else the source's first
    getaddrinfo answer for the advertised name (QEMU tries them in that order)."""
    name, _ = advertised_name(pair.dst)
    if is_address(name):
        return name
    lookup = name_lookup(pair.src, name)
    addresses = (lookup or {}).get("getaddrinfo", {}).get("addresses") or []
    return addresses[0] if addresses else None


@per_pair
def migration_endpoints(pair: Pair) -> tuple[tuple[tuple[str, str], ...], tuple[tuple[str, str], ...]]:
    """Both hosts' (link, address) on the migration network, of one family: the destination's
    address QEMU would connect to first leads, the source's addresses of its family follow."""
    network = pair.intent.migration_network
    if network is None:
        raise Skip("no migration network given or inferable (use --migration-network CIDR)")
    src_links, dst_links = src_migration_addresses(pair), dst_migration_addresses(pair)
    if not src_links:
        raise Skip(f"{pair.src_label} has no address on the migration network {network}")
    if not dst_links:
        raise Skip(f"{pair.dst_label} has no address on the migration network {network}")
    first = first_answer(pair)
    dst_links.sort(key=lambda item: item[1] != first)
    family = family_name(dst_links[0][1])
    same = [item for item in src_links if family_name(item[1]) == family]
    if not same:
        raise Skip(f"{pair.src_label} has no {family} address on the migration network {network}")
    return tuple(same), tuple(dst_links)
