"""The path a migration would take now: the name the destination advertises, what it resolves
to on the source, the link the source's route leaves by, and the link it arrives on."""

from __future__ import annotations

from typing import Any

from migdoctor.judging.carrier import on_migration_network
from migdoctor.judging.endpoints import first_answer
from migdoctor.judging.facts import addresses_in, advertised_name, host_port, link_of_address, port_range, route_to
from migdoctor.judging.pair import Pair
from migdoctor.judging.stack import link_rate


def predict_path(pair: Pair) -> dict[str, Any]:
    name, origin = advertised_name(pair.dst)
    first, last = port_range(pair.dst)
    path: dict[str, Any] = {
        "name": name,
        "name_origin": origin,
        "address": first_answer(pair),
        "ports": [first, last],
        "source_link": None,
        "source_address": None,
        "gateway": None,
        "source_rate_mbps": None,
        "destination_link": None,
        "on_migration_network": None,
    }
    if path["address"] is None:
        return path
    route = route_to(pair.src, path["address"])
    if route and not route.get("error"):
        path.update(
            source_link=route["interface"],
            source_address=route["source"],
            gateway=route["gateway"],
            source_rate_mbps=link_rate(pair.src, route["interface"]),
        )
    path["destination_link"] = link_of_address(pair.dst, path["address"])
    network = pair.intent.migration_network
    if network is not None:
        path["on_migration_network"] = path["address"] in network
    return path


def describe_path(pair: Pair, path: dict[str, Any]) -> str:
    """One line answering the forum thread: which way the stream goes now."""
    return path_text(pair.src_label, pair.dst_label, path)


def path_text(src_label: str, dst_label: str, path: dict[str, Any]) -> str:
    """describe_path from the path alone (a compact report's pair is written without its text)."""
    rate = f" ({path['source_rate_mbps']} Mb/s)" if path["source_rate_mbps"] else ""
    src_side = f"{src_label} {path['source_link'] or '?'} {path['source_address'] or '?'}{rate}"
    via = f" via {path['gateway']}" if path["gateway"] else ""
    first, last = path["ports"]
    dst_side = f"{dst_label} {host_port(path['address'] or 'unresolved', f'{first}-{last}')} ({path['name']})"
    return f"{src_side}{via} -> {dst_side}"


def intended_links(pair: Pair) -> dict[str, list[dict[str, Any]]]:
    """Where the stream should go: each host's links and addresses on the migration network,
    for the report's path diagram (empty when no migration network is known)."""
    network = pair.intent.migration_network
    return {
        side: [
            {"link": link, "address": address, "effective_mbps": link_rate(facts, link)}
            for link, address in addresses_in(facts, network)
        ]
        for side, facts in (("source", pair.src), ("destination", pair.dst))
    }


def measured_path(pair: Pair) -> list[dict[str, Any]] | None:
    """The links each leg of the test migration really crossed, judged against the migration
    network, with the sending link's effective speed (the chart's reference line)."""
    if pair.trial is None or "refused" in pair.trial:
        return None
    network = pair.intent.migration_network
    measured = []
    for leg in pair.trial["legs"]:
        sender = pair.src if leg["from"] == pair.src_label else pair.dst
        link = leg.get("source_link")
        measured.append(
            {
                "from": leg["from"],
                "to": leg["to"],
                "ok": leg["ok"],
                "source_link": link,
                "destination_link": leg.get("destination_link"),
                "on_migration_network": on_migration_network(sender, link, network) if link else None,
                "rate_mbps": leg.get("rate_mbps"),
                "effective_mbps": link_rate(sender, link),
            }
        )
    return measured
