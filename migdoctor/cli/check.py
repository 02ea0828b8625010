"""`migdoctor check SRC DST` and its companions `checks`, `schema`, `report validate`."""

from __future__ import annotations

import json
import sys
import time
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from migdoctor.cli.facts import fail

EXIT_HELP = (
    "Exit status: 0 every check passed (warnings, skips and ignored failures allowed); "
    "1 a check failed or raised; 2 could not run (a host unreachable, bad input)."
)


class Format(StrEnum):
    text = "text"
    json = "json"
    markdown = "markdown"


def load_saved_facts(path: str, side: str) -> dict[str, Any]:
    """A facts record, or a report made with --include-facts (its SIDE is taken)."""
    from migdoctor.schemas import schema_errors

    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise fail(f"{path}: cannot read facts: {exc.strerror}") from None
    except json.JSONDecodeError as exc:
        raise fail(f"{path}: not JSON: {exc.msg} at line {exc.lineno}") from None
    if isinstance(document, dict) and "findings" in document:
        document = (document.get("facts") or {}).get(side)
        if document is None:
            raise fail(f"{path}: report holds no {side} facts (make it with --include-facts)")
    errors = schema_errors("facts", document)
    if errors:
        raise fail(f"{path}: not a migdoctor facts record: {errors[0]}")
    return document


def default_output(src: str, dst: str, started_at: datetime) -> Path:
    safe = "".join(c if c.isalnum() or c in "-._" else "_" for c in f"{src}_{dst}")
    return Path("reports") / f"{started_at:%Y%m%dT%H%M%SZ}_{safe}.json"


def check_command(
    src: Annotated[
        str, typer.Argument(help="Source host: inventory name, 'local', ssh://[user@]host[:port], lab:HOST.")
    ],
    dst: Annotated[str, typer.Argument(help="Destination host, same forms.")],
    migration_network: Annotated[
        str | None,
        typer.Option(metavar="CIDR", help="The network migrations should take (else inventory, else inferred)."),
    ] = None,
    min_link_speed: Annotated[
        int | None, typer.Option(metavar="MBPS", min=1, help="Fail links slower than this (speed or shaping).")
    ] = None,
    only: Annotated[
        list[str] | None, typer.Option(metavar="ID|AREA", help="Run only these checks or areas (repeatable).")
    ] = None,
    ignore: Annotated[
        list[str] | None,
        typer.Option(metavar="ID|AREA", help="Accepted risk: keep the finding, mark it ignored (repeatable)."),
    ] = None,
    checks_dir: Annotated[str | None, typer.Option(metavar="DIR", help="Load drop-in check modules from DIR.")] = None,
    facts: Annotated[
        tuple[str, str] | None,
        typer.Option(metavar="SRC.json DST.json", help="Judge saved facts; no host is contacted."),
    ] = None,
    output_format: Annotated[Format, typer.Option("--format", help="Output on stdout.")] = Format.text,
    output: Annotated[
        str | None, typer.Option(metavar="FILE", help="Report file (default reports/<UTC time>_<src>_<dst>.json).")
    ] = None,
    include_facts: Annotated[bool, typer.Option(help="Put both hosts' facts into the report.")] = False,
    probe: Annotated[
        bool, typer.Option(help="Open a listener on DST and connect to it from SRC (nothing is left behind).")
    ] = True,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Text output: only what did not pass.")] = False,
    inventory: Annotated[
        str | None,
        typer.Option("--inventory", "-i", help="Inventory file (default: $MIGDOCTOR_INVENTORY, else the lab's)."),
    ] = None,
) -> None:
    """Judge whether a live migration from SRC to DST takes the migration network, and why not."""
    from rich.console import Console

    from migdoctor.engine import DiscoveryError
    from migdoctor.pairrun import Collected, Request, collect_pair, decide_intent, judge
    from migdoctor.report.document import ReportError, write_report
    from migdoctor.transports import Host, TransportError, resolve_host
    from migdoctor.transports.inventory import InventoryError, load_inventory

    started, started_at = time.monotonic(), datetime.now(UTC)
    try:
        loaded = load_inventory(inventory)
        if facts:
            uris = {label: loaded.hosts.get(label, {}).get("libvirt_uri") for label in (src, dst)}
            request = Request(
                Host(src, "file", facts[0], libvirt_uri=uris[src]),
                Host(dst, "file", facts[1], libvirt_uri=uris[dst]),
                loaded,
            )
        else:
            request = Request(resolve_host(src, loaded), resolve_host(dst, loaded), loaded)
    except (InventoryError, TransportError) as exc:
        raise fail(str(exc)) from None
    request.migration_network, request.min_link_speed_mbps = migration_network, min_link_speed
    request.only, request.ignore, request.checks_dir = only or [], ignore or [], checks_dir
    request.include_facts, request.probe = include_facts, probe and not facts
    try:
        if facts:
            src_side = Collected(load_saved_facts(facts[0], "source"))
            dst_side = Collected(load_saved_facts(facts[1], "destination"))
            intent, probed = decide_intent(request, dst_side.facts), None
        else:
            src_side, dst_side, intent, probed = collect_pair(request)
        report = judge(request, src_side, dst_side, intent, started, started_at, probed)
        target = Path(output) if output else default_output(src, dst, started_at)
        write_report(report, target)
    except (DiscoveryError, ReportError, ValueError) as exc:
        raise fail(str(exc)) from None
    if output_format is Format.json:
        json.dump(report, sys.stdout, indent=2, default=str)
        sys.stdout.write("\n")
    elif output_format is Format.markdown:
        from migdoctor.report.markdown import render_markdown

        sys.stdout.write(render_markdown(report))
    else:
        from migdoctor.report.text import render_text

        render_text(report, Console(soft_wrap=True), quiet=quiet)
        Console(stderr=True).print(f"report: {target}", highlight=False)
    raise typer.Exit(report["exit_status"])


check_command.__doc__ = f"{check_command.__doc__}\n\n{EXIT_HELP}"


def checks_command(
    checks_dir: Annotated[str | None, typer.Option(metavar="DIR", help="Also list drop-in checks from DIR.")] = None,
) -> None:
    """List every check with id, severity, title and origin."""
    from rich.console import Console
    from rich.table import Table

    from migdoctor.engine import DiscoveryError, discover

    try:
        found = discover(checks_dir)
    except DiscoveryError as exc:
        raise fail(str(exc)) from None
    table = Table("id", "severity", "title", "origin", box=None)
    for check in found:
        table.add_row(check.id, check.severity, check.title, check.origin)
    Console().print(table)


def schema_command(
    facts: Annotated[
        bool, typer.Option("--facts", help="Print the facts record's schema instead of the report's.")
    ] = False,
) -> None:
    """Print the report's JSON Schema (draft 2020-12)."""
    from migdoctor.schemas import load_schema

    json.dump(load_schema("facts" if facts else "report"), sys.stdout, indent=2)
    sys.stdout.write("\n")


report_app = typer.Typer(help="Work with saved reports.", no_args_is_help=True)


@report_app.command("validate")
def validate_command(file: Annotated[str, typer.Argument(help="A report written by migdoctor check.")]) -> None:
    """Check a report against the schema; exit 1 naming the first problem."""
    from migdoctor.report.document import ReportError, validate_report

    try:
        document = json.loads(Path(file).read_text(encoding="utf-8"))
    except OSError as exc:
        raise fail(f"{file}: cannot read: {exc.strerror}") from None
    except json.JSONDecodeError as exc:
        raise fail(f"{file}: not JSON: {exc.msg} at line {exc.lineno}", 1) from None
    try:
        validate_report(document)
    except ReportError as exc:
        raise fail(f"{file}: {exc}", 1) from None
    typer.echo(f"{file}: valid migdoctor report (schema {document['schema_version']})")
