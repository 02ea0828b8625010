"""`migdoctor watch SRC DST`: which link carries a migration someone else started, live."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from migdoctor.cli.options import Become, Dst, Inventory, Src, fail, number


def rate_line(label: str, rates: dict[str, float]) -> str:
    shown = ", ".join(f"{link} {rate * 8 / 1e6:7.1f} Mb/s" for link, rate in sorted(rates.items()) if link != "lo")
    return f"{label}: {shown}"


def watch_command(
    src: Src,
    dst: Dst,
    domain: Annotated[
        str | None, typer.Option(metavar="NAME", help="The migrating domain (default: any with a job).")
    ] = None,
    interval: Annotated[
        float, typer.Option(metavar="SECONDS", parser=number(0.05, 60), help="Sampling interval.")
    ] = 0.25,
    output: Annotated[str | None, typer.Option(metavar="FILE", help="Write the summary as JSON.")] = None,
    inventory: Inventory = None,
    become: Become = False,
) -> None:
    """Watch a running migration: per-link throughput on both hosts and the link carrying it.
    Ends when the job ends or on Ctrl-C; exits 0 with a note when there is nothing to watch."""
    from rich.console import Console
    from rich.live import Live
    from rich.text import Text

    from migdoctor.actions.migration import TrialRefused, open_libvirt
    from migdoctor.actions.watch import NothingToWatch, watch
    from migdoctor.report.output import OutputError, real_target, write_atomically
    from migdoctor.report.safe import printable
    from migdoctor.transports import TransportError, open_transports, resolve_host
    from migdoctor.transports.inventory import InventoryError, load_inventory

    try:
        loaded = load_inventory(inventory)
        if output:
            real_target(Path(output), [loaded.path] if loaded.path else [])
        hosts = [resolve_host(src, loaded, become), resolve_host(dst, loaded, become)]
    except (InventoryError, TransportError, OutputError) as exc:
        raise fail(str(exc)) from None
    terminal = sys.stdout.isatty()
    with open_transports(hosts) as (src_host, dst_host), Live(Text(""), transient=True, auto_refresh=False) as live:
        announced: list[bool] = []

        def show(view: dict[str, Any]) -> None:
            if not terminal and not announced:  # a log or a pipe learns when watching began
                print(printable(f"watching {src_host.label} -> {dst_host.label}; Ctrl-C ends it"), flush=True)
                announced.append(True)
            if terminal:
                stats = view["stats"]
                head = (
                    f"{view['elapsed_s']:5.1f} s  {stats.get('data_processed', 0) / 1e6:8.1f} MB  "
                    f"{stats.get('memory_bps', 0) * 8 / 1e6:7.1f} Mb/s (libvirt)"
                )
                lines = [
                    head,
                    rate_line(src_host.label, view["src_rates"]),
                    rate_line(dst_host.label, view["dst_rates"]),
                ]
                live.update(Text("\n".join(map(printable, lines))), refresh=True)

        try:
            conn = open_libvirt(src_host)
        except TrialRefused as exc:
            raise fail(str(exc)) from None
        try:
            summary = watch(src_host, dst_host, conn, domain, interval, show)
        except NothingToWatch as exc:
            typer.echo(f"migdoctor: nothing to watch: {exc}")
            raise typer.Exit(0) from None
        except TransportError as exc:
            raise fail(str(exc)) from None
        finally:
            conn.close()
    Console(markup=False).print(
        printable(
            f"{summary['domain']}: {src} {summary['source_link']} -> {dst} {summary['destination_link']} carried "
        )
        + f"{summary['source_tx_bytes'] / 1e6:.1f} MB in {summary['wall_s']:.1f} s ({summary['rate_mbps']} Mb/s)"
        + (" (interrupted)" if summary["interrupted"] else ""),
        highlight=False,
    )
    if output:
        try:
            write_atomically(Path(output), json.dumps(summary, indent=2) + "\n")
        except OutputError as exc:
            raise fail(str(exc)) from None
