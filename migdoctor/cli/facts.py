"""`migdoctor facts`: collect one host's facts and print them (JSON for machines, a summary for people)."""

from __future__ import annotations

import ipaddress
import sys
from typing import Annotated, Any

import typer

from migdoctor.cli.options import Become, Inventory, fail, host_help


def facts_command(
    host: Annotated[str, typer.Argument(metavar="HOST", help=host_help("The host"))] = "local",
    as_json: Annotated[bool, typer.Option("--json", help="Print the facts record as JSON.")] = False,
    route_to: Annotated[
        list[str] | None,
        typer.Option("--route-to", metavar="IP", help="Look up the route the host would take to IP (repeatable)."),
    ] = None,
    resolve: Annotated[
        list[str] | None,
        typer.Option("--resolve", metavar="NAME", help="Resolve NAME as the host sees it (repeatable)."),
    ] = None,
    reverse: Annotated[
        list[str] | None,
        typer.Option("--reverse", metavar="IP", help="Look up the PTR names of IP as the host sees them (repeatable)."),
    ] = None,
    inventory: Inventory = None,
    become: Become = False,
) -> None:
    """Collect what a host has: links, routes, name resolution, listeners, firewall, libvirt/Xen config."""
    from migdoctor.transports import Lookups, TransportError, fetch_facts, open_transports, resolve_host
    from migdoctor.transports.inventory import InventoryError, load_inventory

    for option, values in (("--route-to", route_to), ("--reverse", reverse)):
        for value in values or ():
            try:
                ipaddress.ip_address(value)
            except ValueError:
                raise fail(f"{option} {value}: not an IP address") from None
    try:
        target = resolve_host(host, load_inventory(inventory), become)
        lookups = Lookups(tuple(route_to or ()), tuple(resolve or ()), tuple(reverse or ()))
        with open_transports([target]) as (transport,):
            record = fetch_facts(transport, lookups)
    except (InventoryError, TransportError) as exc:
        raise fail(str(exc)) from None
    if as_json:
        from migdoctor.report.json_writer import facts_json

        sys.stdout.write(facts_json(record))
    else:
        print_summary(record)


def print_summary(record: dict[str, Any]) -> None:
    from rich.console import Console

    from migdoctor.report.facts_view import render_facts
    from migdoctor.report.safe import printable_data

    Console(markup=False, emoji=False).print(render_facts(printable_data(record)))
