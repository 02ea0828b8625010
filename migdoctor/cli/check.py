"""`migdoctor check SRC DST` and its companions `checks`, `schema`, `report validate`."""

from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from migdoctor.cli.facts import Become, fail
from migdoctor.report.writers import Format, Plan

EXIT_HELP = (
    "Exit status: 0 every check passed (warnings, skips and ignored failures allowed); "
    "1 a check failed or raised; 2 could not run (a host unreachable, bad input)."
)


def load_saved_facts(path: str, side: str) -> dict[str, Any]:
    """A facts record, or a report made with --include-facts (its SIDE is taken)."""
    from migdoctor.bounded import read_input
    from migdoctor.schemas import facts_problem

    try:
        document = json.loads(read_input(path))
    except OSError as exc:
        raise fail(f"{path}: cannot read facts: {exc.strerror}") from None
    except json.JSONDecodeError as exc:
        raise fail(f"{path}: not JSON: {exc.msg} at line {exc.lineno}") from None
    except ValueError as exc:
        raise fail(f"{path}: {exc}") from None
    if isinstance(document, dict) and "findings" in document:
        document = (document.get("facts") or {}).get(side)
        if document is None:
            raise fail(f"{path}: report holds no {side} facts (make it with --include-facts)")
    problem = facts_problem(document)
    if problem:
        raise fail(f"{path}: {problem}")
    return document


def saved_pair(facts: tuple[str, str]) -> tuple[Any, Any]:
    """Both sides' saved facts; one record given for both sides is a host judged against itself."""
    from migdoctor.pairrun import Collected
    from migdoctor.report.document import facts_digest

    src, dst = load_saved_facts(facts[0], "source"), load_saved_facts(facts[1], "destination")
    if facts_digest(src) == facts_digest(dst):
        raise fail(
            f"--facts {facts[0]} {facts[1]}: the same facts record ({src['identity']['hostname']}) for source "
            "and destination; a host does not migrate to itself"
        )
    return Collected(src), Collected(dst)


def default_output(src: str, dst: str, started_at: datetime) -> Path:
    safe = "".join(c if c.isalnum() or c in "-._" else "_" for c in f"{src}_{dst}")
    return Path("reports") / f"{started_at:%Y%m%dT%H%M%SZ}_{safe}.json"


TrialOption = Annotated[
    bool, typer.Option("--test-migration", help="Also live-migrate a canary guest and back, timed.")
]
CanaryMemory = Annotated[int, typer.Option(metavar="MIB", min=64, help="Canary RAM; most of it random payload.")]
MigrateUri = Annotated[
    str | None, typer.Option(metavar="URI", help="Migration URI override (default: none, as plain virsh migrate).")
]
OneWay = Annotated[bool, typer.Option(help="Do not migrate the canary back.")]
Timeout = Annotated[
    float | None,
    typer.Option(metavar="SECONDS", min=1, help="Abort a migration leg after this (default: sized to the canary)."),
]
Domain = Annotated[
    str | None, typer.Option(metavar="NAME", help="Migrate this existing domain instead of a canary (needs --yes).")
]
Yes = Annotated[bool, typer.Option("--yes", help="Confirm migrating the --domain named.")]
MinRate = Annotated[float | None, typer.Option(metavar="MBPS", min=0, help="Fail a test migration slower than this.")]
MinRateFraction = Annotated[
    float,
    typer.Option(
        metavar="FRACTION", min=0, max=1, help="Fail a test migration below this share of its link's effective speed."
    ),
]
Inventory = Annotated[
    str | None,
    typer.Option("--inventory", "-i", help="Inventory file (default: $MIGDOCTOR_INVENTORY, else the lab's)."),
]
Output = Annotated[
    list[Path] | None,
    typer.Option(
        metavar="FILE",
        help="A report file, its format by suffix (.json .html .md .xml .txt; other: JSON); repeatable. "
        "The JSON is always written (default reports/<UTC time>_<src>_<dst>.json).",
    ),
]
OutputStem = Annotated[
    Path | None,
    typer.Option(metavar="STEM", help="Write STEM.json and STEM.html/.md/.xml for each --format (all without one)."),
]
OutputFormat = Annotated[
    list[Format] | None,
    typer.Option(
        "--format",
        metavar="text|json|markdown|html|junit",
        help="A format to make (repeatable); those without a file go to stdout. Default text.",
    ),
]
MigrateTls = Annotated[
    bool,
    typer.Option(
        "--tls", help="Test migration over TLS (virsh migrate --tls): QEMU's migration certificates on both hosts."
    ),
]
Src = Annotated[str, typer.Argument(help="Source host: inventory name, 'local', ssh://[user@]host[:port], lab:HOST.")]
Dst = Annotated[str, typer.Argument(help="Destination host, same forms.")]


def trial_options(
    enabled: bool,
    memory: int,
    uri: str | None,
    one_way: bool,
    timeout: float | None,
    domain: str | None,
    yes: bool,
    tls: bool = False,
) -> Any:
    from migdoctor.actions.migration import TrialOptions

    if not enabled:
        return None
    if domain and not yes:
        raise fail(f"--domain {domain}: migrating an existing domain needs --yes")
    return TrialOptions(memory, uri, one_way, timeout or 0.0, domain, tls)


def check_command(
    src: Src,
    dst: Dst,
    migration_network: Annotated[
        str | None,
        typer.Option(
            metavar="CIDR[,CIDR]",
            help="The network migrations should take, one prefix per family (else inventory, else inferred).",
        ),
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
    output_format: OutputFormat = None,
    output: Output = None,
    output_stem: OutputStem = None,
    include_facts: Annotated[bool, typer.Option(help="Put both hosts' facts into the report.")] = False,
    probe: Annotated[
        bool,
        typer.Option(
            help="Open a listener on DST and connect to it from SRC, and open DST's libvirt URI from SRC as its "
            "libvirtd would (nothing is left behind)."
        ),
    ] = True,
    test_migration: TrialOption = False,
    canary_memory: CanaryMemory = 256,
    migrate_uri: MigrateUri = None,
    tls: MigrateTls = False,
    one_way: OneWay = False,
    timeout: Timeout = None,
    domain: Domain = None,
    yes: Yes = False,
    min_rate: MinRate = None,
    min_rate_fraction: MinRateFraction = 0.5,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Text output: only what did not pass.")] = False,
    inventory: Inventory = None,
    become: Become = False,
) -> None:
    """Judge whether a live migration from SRC to DST takes the migration network, and why not."""
    trial = trial_options(test_migration, canary_memory, migrate_uri, one_way, timeout, domain, yes, tls)
    request = build_request(src, dst, inventory, facts, become)
    request.migration_network, request.min_link_speed_mbps = migration_network, min_link_speed
    request.only, request.ignore, request.checks_dir = only or [], ignore or [], checks_dir
    request.include_facts, request.probe, request.trial = include_facts, probe and not facts, trial
    request.min_rate_mbps, request.min_rate_fraction = min_rate, min_rate_fraction
    execute(request, facts, Outputs(output_format or [], output or [], output_stem), quiet)


def migrate_test_command(
    src: Src,
    dst: Dst,
    canary_memory: CanaryMemory = 256,
    migrate_uri: MigrateUri = None,
    tls: MigrateTls = False,
    one_way: OneWay = False,
    timeout: Timeout = None,
    domain: Domain = None,
    yes: Yes = False,
    min_rate: MinRate = None,
    min_rate_fraction: MinRateFraction = 0.5,
    output_format: OutputFormat = None,
    output: Output = None,
    output_stem: OutputStem = None,
    inventory: Inventory = None,
    become: Become = False,
) -> None:
    """Live-migrate a canary from SRC to DST and back, and say which links carried it, how fast.
    The same as `check --test-migration --only migration --no-probe`."""
    request = build_request(src, dst, inventory, None, become)
    request.only, request.probe = ["migration"], False
    request.trial = trial_options(True, canary_memory, migrate_uri, one_way, timeout, domain, yes, tls)
    request.min_rate_mbps, request.min_rate_fraction = min_rate, min_rate_fraction
    execute(request, None, Outputs(output_format or [], output or [], output_stem), quiet=False)


def build_request(
    src: str, dst: str, inventory: str | None, facts: tuple[str, str] | None, become: bool = False
) -> Any:
    from migdoctor.pairrun import Request
    from migdoctor.transports import Host, TransportError, resolve_host
    from migdoctor.transports.inventory import InventoryError, load_inventory

    try:
        loaded = load_inventory(inventory, lab=not facts)
        if not facts:
            return Request(resolve_host(src, loaded, become), resolve_host(dst, loaded, become), loaded)
    except (InventoryError, TransportError) as exc:
        raise fail(str(exc)) from None

    def saved(label: str, path: str) -> Host:
        entry = loaded.hosts.get(label, {})
        return Host(
            label, "file", path, libvirt_uri=entry.get("libvirt_uri"), peer_libvirt_uri=entry.get("peer_libvirt_uri")
        )

    return Request(saved(src, facts[0]), saved(dst, facts[1]), loaded)


@dataclass
class Outputs:
    formats: list[Format]
    files: list[Path]
    stem: Path | None


def execute(request: Any, facts: tuple[str, str] | None, outputs: Outputs, quiet: bool) -> None:
    """Collect (or load), judge, write the report in every format asked, show one; exit with the
    report's status."""
    from migdoctor.actions.migration import TrialRefused
    from migdoctor.cli.progress import migration_progress
    from migdoctor.engine import DiscoveryError
    from migdoctor.pairrun import collect_pair, decide_intent, judge, prepare
    from migdoctor.report.document import ReportError
    from migdoctor.report.output import OutputError, real_target
    from migdoctor.report.safe import printable
    from migdoctor.report.writers import plan_outputs
    from migdoctor.transports import TransportError

    started, started_at = time.monotonic(), datetime.now(UTC)
    try:
        default_json = default_output(request.src.label, request.dst.label, started_at)
        plan = plan_outputs(outputs.formats, outputs.files, outputs.stem, default_json)
    except ValueError as exc:
        raise fail(str(exc)) from None
    try:
        prepare(request)  # validate first, act later: nothing below runs on a bad option
        for path in plan.files.values():
            real_target(path)
        if facts:
            src_side, dst_side = saved_pair(facts)
            intent, probed, trial = decide_intent(request, dst_side.facts), None, None
        else:
            with migration_progress(enabled=request.trial is not None and sys.stdout.isatty()) as progress:
                request.progress = progress
                src_side, dst_side, intent, probed, trial = collect_pair(request)
        report = judge(request, src_side, dst_side, intent, started, started_at, probed, trial)
        emit(report, plan, quiet)
    except (DiscoveryError, ReportError, TrialRefused, TransportError, ValueError, OutputError) as exc:
        raise fail(str(exc)) from None
    for host in report["hosts"].values():
        if not host["reached"]:  # exit 2: say which host, whatever went to stdout
            typer.echo(f"migdoctor: {printable(host['error'])}", err=True)
    raise typer.Exit(report["exit_status"])


def emit(report: dict[str, Any], plan: Plan, quiet: bool) -> None:
    """The JSON first (validated), then the other files, then stdout; the files named on stderr
    when a person reads stdout."""
    from migdoctor.report.document import write_atomically, write_report
    from migdoctor.report.writers import RenderOptions, writer

    write_report(report, plan.files[Format.json])
    for name, path in plan.files.items():
        if name is not Format.json:
            write_atomically(path, writer(name).render(report, RenderOptions(quiet=quiet)))
    if plan.stdout is not None:
        options = RenderOptions(color=sys.stdout.isatty(), quiet=quiet)
        sys.stdout.write(writer(plan.stdout).render(report, options))
    if plan.stdout in (None, Format.text):
        for path in plan.files.values():
            typer.echo(f"report: {path}", err=True)


check_command.__doc__ = f"{check_command.__doc__}\n\n{EXIT_HELP}"


class CatalogFormat(StrEnum):
    text = "text"
    markdown = "markdown"
    json = "json"


def checks_command(
    names: Annotated[
        list[str] | None,
        typer.Argument(metavar="ID|AREA", help="Show these checks in full: what each verifies, why, the usual fix."),
    ] = None,
    checks_dir: Annotated[str | None, typer.Option(metavar="DIR", help="Also list drop-in checks from DIR.")] = None,
    output_format: Annotated[
        CatalogFormat,
        typer.Option("--format", help="text: a table, or the named checks in full; markdown: the README's table."),
    ] = CatalogFormat.text,
) -> None:
    """List every check with id, severity, title and origin; name checks or areas to read what
    each verifies, why it matters and what is usually changed."""
    import shutil

    from rich.console import Console
    from rich.table import Table

    from migdoctor.engine import DiscoveryError, discover, select, unknown_name
    from migdoctor.report import catalog
    from migdoctor.report.safe import printable

    try:
        found = discover(checks_dir)
    except DiscoveryError as exc:
        raise fail(str(exc)) from None
    unknown = unknown_name(found, names or [])
    if unknown:
        raise fail(f"{unknown}: no check has that id or area")
    found = select(found, names or [])
    if output_format is CatalogFormat.markdown:
        sys.stdout.write(catalog.render_markdown(found))
    elif output_format is CatalogFormat.json:
        sys.stdout.write(catalog.render_json(found))
    elif names:
        sys.stdout.write(catalog.render_details(found, min(shutil.get_terminal_size().columns, 100)))
    else:
        table = Table("id", "severity", "title", "origin", box=None)
        for check in found:
            table.add_row(check.id, check.severity, check.title, printable(check.origin))
        Console(markup=False).print(table)  # titles and origins are text, never markup


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
    from migdoctor.cli.report import read_report

    document = read_report(Path(file), invalid=1)
    typer.echo(f"{file}: valid migdoctor report (schema {document['schema_version']})")
