"""`migdoctor facts`: collect one host's facts and print them (JSON for machines, a summary for people)."""

from __future__ import annotations

import ipaddress
import sys
from collections.abc import Callable
from typing import Annotated, Any

import typer

EXIT_UNREACHABLE = 2
Become = Annotated[
    bool,
    typer.Option("--become", help="Run the far side under `sudo -n` (as the inventory's become_user, else root)."),
]


def number(low: float, high: float) -> Callable[[str], float]:
    """A float option's parser: a number from LOW to HIGH (click's ranges let nan through, and with
    no upper bound inf and 1e308, which no timer or rate takes)."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise typer.BadParameter(f"{text!r} is not a number") from None
        if not low <= value <= high:  # nan too
            raise typer.BadParameter(f"{text} is not in the range {low:,.15g} to {high:,.15g}")
        return value

    return parse


def fail(message: str, code: int = EXIT_UNREACHABLE) -> typer.Exit:
    """One line on stderr, no traceback: what admins expect from a CLI tool."""
    from migdoctor.report.safe import printable

    typer.echo(f"migdoctor: {printable(message)}", err=True)
    return typer.Exit(code)


def facts_command(
    host: Annotated[
        str,
        typer.Argument(
            help="Inventory name, 'local', 'ssh://[user@]host[:port]', 'lab:HOST', or a name to reach over SSH."
        ),
    ] = "local",
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
    inventory: Annotated[
        str | None,
        typer.Option("--inventory", "-i", help="Inventory file (default: $MIGDOCTOR_INVENTORY, else the lab's)."),
    ] = None,
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
