"""Hidden halves of the port probe, run on the hosts by `migdoctor check` over its transports."""

from __future__ import annotations

from typing import Annotated

import typer

from migdoctor.cli.facts import fail


def parse_ports(text: str) -> tuple[int, int]:
    first, _, last = text.partition("-")
    try:
        return int(first), int(last or first)
    except ValueError:
        raise fail(f"--ports {text!r}: expected FIRST-LAST") from None


def probe_serve_command(
    bind: Annotated[str, typer.Option(help="Address to listen on (migration_address).")],
    ports: Annotated[str, typer.Option(help="FIRST-LAST port range.")],
) -> None:
    """Listen once on the first free port of the range; report the bytes received."""
    from migdoctor.actions.probe import serve

    serve(bind, *parse_ports(ports))


def probe_send_command(
    name: Annotated[str, typer.Option(help="Name or address to connect to.")],
    port: Annotated[int, typer.Option(help="Port to connect to.")],
) -> None:
    """Connect like QEMU and send a sample; report which local address was used."""
    from migdoctor.actions.probe import send

    send(name, port)
