"""Which network a migration to a destination should take, and how that was decided: the
intent belongs to the destination (where the stream arrives), so every pair into it shares it."""

from __future__ import annotations

import ipaddress
from typing import Any

from migdoctor.judging.facts import interface_addresses, setting
from migdoctor.judging.pair import Intent, MigrationNetwork, TrialTerms
from migdoctor.judging.stack import link_rate
from migdoctor.run.request import Request


def network_of(address: str, prefix: int) -> str:
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))


def inferred_network(label: str, dst: dict[str, Any]) -> tuple[str | None, str]:
    """The network of migration_address when it is assigned, else of the fastest addressed link."""
    address = setting(dst, "qemu_conf", "migration_address", "").strip("[]")
    addresses = interface_addresses(dst)
    for link, own, prefix in addresses:
        if own == address:
            return network_of(own, prefix), f"network of {label}'s migration_address {own} ({link})"
    rated = [(link_rate(dst, link), link, network_of(own, prefix)) for link, own, prefix in addresses]
    known = [item for item in rated if item[0]]
    if known:
        rate, link, network = max(known, key=lambda item: item[0] or 0)
        return network, f"{label}'s fastest addressed link {link} ({rate} Mb/s)"
    return None, "undecided: no migration network given or inferable"


def decide_intent(request: Request, label: str, dst: dict[str, Any] | None) -> Intent:
    """--migration-network, else the inventory, else inferred from the destination's facts."""
    entry = request.inventory.hosts.get(label, {})
    given = entry.get("migration_network") or request.inventory.defaults.get("migration_network")
    if isinstance(given, list):  # one prefix per family, as a TOML list
        given = ",".join(str(item) for item in given)
    if request.migration_network:
        network, decided_by, inferred = request.migration_network, "--migration-network", False
    elif given:
        network, decided_by, inferred = given, f"inventory {request.inventory.path}", False
    elif dst is None:
        network, decided_by, inferred = None, "undecided: destination not reached", True
    else:
        network, decided_by = inferred_network(label, dst)
        inferred = True
    try:
        parsed = MigrationNetwork.parse(network) if network else None
    except ValueError as exc:
        raise ValueError(f"{decided_by}: {exc}") from None
    return Intent(
        parsed,
        decided_by,
        inferred,
        min_link_speed_mbps=request.min_link_speed_mbps,
        dst_libvirt_uri=request.host(label).peer_uri,
    )


def trial_terms(request: Request) -> TrialTerms:
    """What REQUEST asks of the test migration, for the checks that judge it."""
    return TrialTerms(
        tls=bool(request.trial and request.trial.tls),
        migrate_uri=request.trial.migrate_uri if request.trial else None,
        min_rate_mbps=request.min_rate_mbps,
        min_rate_fraction=request.min_rate_fraction,
    )
