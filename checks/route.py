"""Which link each host's route to the other's migration address leaves by."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from migdoctor.checkapi import Evidence, Outcome, Registry, Skip, failed, passed
from migdoctor.judging.endpoints import migration_endpoints
from migdoctor.judging.facts import address_of, interface_addresses, network_of, route_to
from migdoctor.judging.pair import Pair

registry = Registry(order=20)


def judge_route(facts: dict[str, Any], label: str, peer: str, own_links: Sequence[tuple[str, str]]) -> Outcome:
    """The route to PEER must leave by a link on the migration network, on-link when the
    network is attached (a gateway there means a detour)."""
    route = route_to(facts, peer)
    if route is None:
        raise Skip(f"{label}: no route look-up for {peer} in its facts (collect with --route-to {peer})")
    if route.get("error"):
        return failed(
            f"{label} has no route to {peer}: {route['error']}",
            Evidence(label, f"route to {peer}", route["error"], f"dev {own_links[0][0]}"),
            remediation=f"{label}: ip route add {peer} dev {own_links[0][0]}",
        )
    links = {link for link, _ in own_links}
    attached = any(
        address_of(peer) in network_of(address, prefix)
        for link, address, prefix in interface_addresses(facts)
        if link in links
    )
    actual = f"dev {route['interface']}" + (f" via {route['gateway']}" if route["gateway"] else "")
    expected = f"dev {own_links[0][0]}"
    if route["interface"] not in links:
        return failed(
            f"{label} reaches {peer} by {route['interface']}, not by its migration link {own_links[0][0]}",
            Evidence(label, f"route to {peer}", actual, expected),
            remediation=f"{label}: remove the route to {peer} by {route['interface']} (ip route del {peer}); "
            f"the connected route on {own_links[0][0]} then applies",
        )
    if attached and route["gateway"]:
        return failed(
            f"{label} reaches {peer} via gateway {route['gateway']} although {peer} is on-link on {route['interface']}",
            Evidence(label, f"route to {peer}", actual, expected),
            remediation=f"{label}: ip route del {peer} via {route['gateway']}",
        )
    return passed(f"{label} reaches {peer} by {actual}", Evidence(label, f"route to {peer}", actual, expected))


@registry.check(
    "route.egress-interface",
    "The source reaches the destination's migration address by its migration link",
    "high",
    needs=("src.route_lookups", "src.links", "dst.links"),
    description=(
        "the source's route to the destination's migration address leaves by another link than its migration "
        "link, or via a gateway although that address is on-link"
    ),
    rationale=(
        "The right name is not enough when the route leaves by the management link: the forum answer names "
        "it, 'default routes using the 1G network and having no explicit rules' (the SUSE forums thread; "
        "OpenNebula/one 1010)"
    ),
    fix=(
        "remove the route on the source that sends the destination's migration address elsewhere (`ip route "
        "del ADDRESS`), so the connected route on the migration link applies"
    ),
)
def egress_interface(pair: Pair) -> Outcome:
    src_links, dst_links = migration_endpoints(pair)
    return judge_route(pair.src, pair.src_label, dst_links[0][1], src_links)


@registry.check(
    "route.return-path",
    "The destination's route back to the source's migration address takes its migration link",
    "medium",
    needs=("dst.route_lookups", "src.links", "dst.links"),
    description=(
        "the destination's route back to the source's migration address leaves by another link than its "
        "migration link, or via a gateway although that address is on-link"
    ),
    rationale=(
        "The stream's acknowledgements and libvirt's replies take the return route: an asymmetric path is "
        "dropped by reverse-path filtering or stateful firewalls, or loads the management link"
    ),
    fix=(
        "remove the destination's route that sends the source's migration address elsewhere, so the connected "
        "route on its migration link applies"
    ),
)
def return_path(pair: Pair) -> Outcome:
    src_links, dst_links = migration_endpoints(pair)
    return judge_route(pair.dst, pair.dst_label, src_links[0][1], dst_links)
