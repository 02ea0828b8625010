"""The second round: what each host must look up about its peers (the names and addresses
they advertise), planned from the first round's facts and batched, one call per host covering
every pair it is part of."""

from __future__ import annotations

from typing import Any

from migdoctor.judging.facts import addresses_in, advertised_name, is_address, remote_endpoint
from migdoctor.judging.pair import Intent, MigrationNetwork
from migdoctor.run.intent import decide_intent
from migdoctor.run.request import Request
from migdoctor.transports import Lookups, resolve_host
from migdoctor.transports.inventory_data import Inventory


def source_lookups(dst: dict[str, Any], intent: Intent, dst_uri: str | None) -> Lookups:
    """What a source must look up: the advertised name, the URI's host, the destination's
    migration addresses (routes and PTRs)."""
    name, _ = advertised_name(dst)
    names = [] if is_address(name) else [name]
    if dst_uri:
        try:
            host = remote_endpoint(dst_uri)[2]
        except Exception:  # noqa: BLE001 - a local URI has no host to look up
            host = ""
        if host and not is_address(host):
            names.append(host)
    addresses = [a for _, a in addresses_in(dst, intent.migration_network)]
    if is_address(name):
        addresses.append(name)
    return Lookups(
        route_to=tuple(dict.fromkeys(addresses)),
        resolve=tuple(dict.fromkeys(names)),
        reverse=tuple(addresses),
        only=True,
    )


def destination_lookups(src: dict[str, Any], intent: Intent) -> Lookups:
    addresses = tuple(a for _, a in addresses_in(src, intent.migration_network))
    return Lookups(route_to=addresses, reverse=addresses, only=True)


def batched(lookups: list[Lookups]) -> Lookups:
    """Several pairs' look-ups on one host as one call, each name and address once."""

    def union(part: str) -> tuple[str, ...]:
        return tuple(dict.fromkeys(item for one in lookups for item in getattr(one, part)))

    return Lookups(route_to=union("route_to"), resolve=union("resolve"), reverse=union("reverse"), only=True)


def pair_lookups(
    pairs: list[tuple[str, str]],
    facts: dict[str, dict[str, Any]],
    intents: dict[str, Intent],
    uris: dict[str, str | None],
) -> dict[tuple[str, str], tuple[Lookups, Lookups]]:
    """(the source's, the destination's) look-ups of every pair whose hosts both answered. What a
    source looks up depends on the destination alone, what a destination looks up on the source
    and the network: each is worked out once, however many pairs share it."""
    as_source: dict[str, Lookups] = {}
    as_destination: dict[tuple[str, MigrationNetwork | None], Lookups] = {}
    found = {}
    for src, dst in pairs:
        if src in facts and dst in facts:
            if dst not in as_source:
                as_source[dst] = source_lookups(facts[dst], intents[dst], uris[dst])
            key = (src, intents[dst].migration_network)
            if key not in as_destination:
                as_destination[key] = destination_lookups(facts[src], intents[dst])
            found[(src, dst)] = (as_source[dst], as_destination[key])
    return found


def planned_lookups(
    request: Request, reached: dict[str, dict[str, Any]]
) -> tuple[dict[str, Intent], dict[tuple[str, str], tuple[Lookups, Lookups]]]:
    """The intent into each destination of REQUEST's pairs (given, or inferred from its round-one
    facts in REACHED) and every pair's look-ups: the one plan of `check`, saved facts and the
    Ansible collection, so what a collector saves is what a judge later asks for."""
    destinations = dict.fromkeys(dst for _, dst in request.pairs)
    intents = {dst: decide_intent(request, dst, reached.get(dst)) for dst in destinations}
    uris = {dst: request.host(dst).peer_uri for dst in destinations}
    return intents, pair_lookups(request.pairs, reached, intents, uris)


def plan_lookups(planned: dict[tuple[str, str], tuple[Lookups, Lookups]]) -> dict[str, Lookups]:
    """Per host, one batch of the look-ups of every pair it is part of."""
    wanted: dict[str, dict[Lookups, None]] = {}
    for (src, dst), (for_source, for_destination) in planned.items():
        wanted.setdefault(src, {})[for_source] = None
        wanted.setdefault(dst, {})[for_destination] = None
    return {label: batched(list(items)) for label, items in wanted.items()}


def lookups_among(label: str, records: dict[str, dict[str, Any]], inventory: Inventory) -> Lookups:
    """LABEL's round two when each host is collected on its own (the migdoctor.fleet collection):
    what `check --all` over the hosts of RECORDS (their round-one facts by label) asks of LABEL,
    INVENTORY (their entries) giving the migration networks and libvirt URIs. Only the pairs LABEL
    is part of are planned, so each host's plan grows with its peers, not with their pairs."""
    pairs: list[tuple[str, str]] = []
    for src in records:  # in `check --all`'s order, so the batch is the same item for item
        pairs += [(label, dst) for dst in records if dst != label] if src == label else [(src, label)]
    request = Request([resolve_host(name, inventory) for name in records], pairs, inventory)
    _, planned = planned_lookups(request, records)
    return plan_lookups(planned).get(label, Lookups(only=True))


def merge_lookups(facts: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    merged = dict(facts)
    merged["route_lookups"] = extra.get("route_lookups")
    merged["resolution"] = {
        **facts["resolution"],
        **{k: extra["resolution"][k] for k in ("lookups", "reverse_lookups")},
    }
    merged["missing"] = facts["missing"] + [gap for gap in extra["missing"] if gap not in facts["missing"]]
    return merged


def absent_lookups(facts: dict[str, Any], lookups: Lookups) -> Lookups:
    """What saved facts lack of LOOKUPS: the look-ups a collector should add for these pairs."""
    resolved = {item["name"] for item in facts["resolution"].get("lookups") or []}
    routed = {item["destination"] for item in facts.get("route_lookups") or []}
    reversed_ = {item["address"] for item in facts["resolution"].get("reverse_lookups") or []}
    return Lookups(
        route_to=tuple(a for a in lookups.route_to if a not in routed),
        resolve=tuple(n for n in lookups.resolve if n not in resolved),
        reverse=tuple(a for a in lookups.reverse if a not in reversed_),
        only=True,
    )
