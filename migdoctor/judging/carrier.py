"""Which link carried a stream's bytes: the device whose byte counters moved most between two
samples taken around it (the port probe, each leg of the test migration, a watched migration),
and the addressed link above that device, judged against the migration network.

A bridge port or bond member counts the bytes of the bridge or bond above it, as much as that link
or more (frame headers), so the busiest device may be the member: it is mapped up its stack to the
addressed link before it is judged."""

from __future__ import annotations

from typing import Any

from migdoctor.judging.facts import addresses_in
from migdoctor.judging.pair import MigrationNetwork
from migdoctor.judging.stack import named_stack_mtus

Counters = dict[str, dict[str, int]]  # link -> {"rx_bytes": n, "tx_bytes": n}, as facts/counters.py reads them


def busiest_link(before: Counters, after: Counters, key: str) -> tuple[str | None, int]:
    """The link (loopback aside) whose KEY counter (tx_bytes, rx_bytes) moved most from BEFORE to
    AFTER, and by how many bytes; (None, 0) when a side gave no sample (a host that did not answer)."""
    if not before or not after:
        return None, 0
    moved = {name: counts[key] - before.get(name, {}).get(key, 0) for name, counts in after.items() if name != "lo"}
    if not moved:
        return None, 0
    name = max(moved, key=lambda link: moved[link])
    return name, moved[name]


def migration_links(facts: dict[str, Any], network: MigrationNetwork | None) -> list[str]:
    """The host's links with an address on the migration network: where a stream should be carried."""
    return [link for link, _ in addresses_in(facts, network)]


def carried_on(facts: dict[str, Any], device: str | None, addressed: list[str]) -> str | None:
    """The link among ADDRESSED whose stack holds DEVICE (itself, or a port or member below it), or None."""
    for top in addressed:
        if device in [name for name, _ in named_stack_mtus(facts, top)]:
            return top
    return None


def carrier_label(facts: dict[str, Any], device: str | None, addressed: list[str]) -> str:
    """`br-mig (a-fast)`: the addressed link and the device under it that counted the bytes."""
    top = carried_on(facts, device, addressed)
    return f"{top} ({device})" if top and top != device else str(device)


def on_migration_network(facts: dict[str, Any], device: str | None, network: MigrationNetwork | None) -> bool | None:
    """Whether DEVICE's bytes went by a link on the migration network (a device not named, from a
    host that did not answer, is not on it); None when no migration network is known."""
    if network is None:
        return None
    return carried_on(facts, device, migration_links(facts, network)) is not None
