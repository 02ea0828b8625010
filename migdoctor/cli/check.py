"""`migdoctor check SRC DST` and its companions `migrate-test`, `checks`, `schema`, `report
validate`: options parsed into a run.check.Ask, the run's report written where asked."""

from __future__ import annotations

import inspect
import json
import sys
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from migdoctor.cli.options import (
    HOSTS,
    SAVED,
    TRIAL,
    AllGuests,
    Become,
    CanaryMemory,
    ChangeRef,
    ChecksDir,
    Domain,
    Dst,
    FactsDir,
    Forks,
    Group,
    GuestNames,
    Ignore,
    IncludeFacts,
    Inventory,
    MigrateTls,
    MigrateUri,
    MigrationNetwork,
    MinLinkSpeed,
    MinRate,
    MinRateFraction,
    OneWay,
    Only,
    Output,
    OutputFormat,
    OutputStem,
    Parallel,
    Probe,
    Quiet,
    ReportDir,
    Src,
    Timeout,
    Window,
    Yes,
    fail,
    guest_selection,
    host_help,
)
from migdoctor.report.writers import Format, Plan

EXIT_HELP = (
    "Exit status: 0 every check passed (warnings, skips and ignored failures allowed) and the path is known; "
    "1 a check failed or raised; 2 could not run (a host unreachable, bad input, a refused test migration); "
    "3 incomplete: the path could not be determined (the migration network, the advertised name's address, "
    "the route or the carrying link unknown), so it is not a pass. Of several pairs: 1 if any failed, "
    "else 2 if any could not run, else 3 if any is incomplete, else 0. Each guest and destination counts as a pair."
)
DEFAULT_REPORT_DIR = Path("reports")

Hosts = Annotated[
    list[str] | None,
    typer.Argument(
        metavar="SRC DST [DST...]",
        help=host_help("The source, then one destination or more (an evacuation)"),
        show_default=False,
    ),
]


def default_output(directory: Path, pairs: list[tuple[str, str]], started_at: datetime) -> Path:
    """DIRECTORY/<UTC time>_<src>_<dst>.json for one pair, <UTC time>_<n>-pairs.json for more."""
    name = "_".join(pairs[0]) if len(pairs) == 1 else f"{len(pairs)}-pairs"
    safe = "".join(c if c.isalnum() or c in "-._" else "_" for c in name)
    return directory / f"{started_at:%Y%m%dT%H%M%SZ}_{safe}.json"


def check_names(values: list[str] | None) -> list[str] | None:
    """--only or --ignore as given: repeated, or comma-separated as a CI variable holds a list.
    Blanks name nothing, so `--only "$EMPTY"` is an empty selection (refused), not every check."""
    if values is None:
        return None
    return [name.strip() for value in values for name in value.split(",") if name.strip()]


def check_command(
    hosts: Hosts = None,
    all_pairs: Annotated[
        bool,
        typer.Option(
            "--all",
            help="Every ordered pair of the inventory's hosts (or of --facts-dir's files).",
            rich_help_panel=HOSTS,
        ),
    ] = False,
    group: Group = None,
    to_each_other: Annotated[
        bool, typer.Option("--to-each-other", help="Every ordered pair among the HOSTS given.", rich_help_panel=HOSTS)
    ] = False,
    inventory: Inventory = None,
    become: Become = False,
    forks: Forks = 10,
    facts: Annotated[
        tuple[str, str] | None,
        typer.Option(
            metavar="SRC_FILE DST_FILE", help="Judge saved facts; no host is contacted.", rich_help_panel=SAVED
        ),
    ] = None,
    facts_dir: FactsDir = None,
    migration_network: MigrationNetwork = None,
    min_link_speed: MinLinkSpeed = None,
    only: Only = None,
    ignore: Ignore = None,
    checks_dir: ChecksDir = None,
    probe: Probe = True,
    guests: AllGuests = False,
    guest: GuestNames = None,
    window: Window = None,
    parallel: Parallel = 1,
    test_migration: Annotated[
        bool,
        typer.Option(
            "--test-migration", help="Also live-migrate a canary guest and back, timed.", rich_help_panel=TRIAL
        ),
    ] = False,
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
    report_dir: ReportDir = DEFAULT_REPORT_DIR,
    include_facts: IncludeFacts = False,
    quiet: Quiet = False,
    change_ref: ChangeRef = None,
) -> None:
    """Judge whether migrations from SRC to each DST (or between all hosts) take the migration network, and why;
    with --guests or --guest, also whether each guest of SRC can move to each DST, and where each goes."""
    from migdoctor.run.check import Ask, Selection, TrialOptions

    trial = TrialOptions(canary_memory, migrate_uri, one_way, timeout or 0.0, domain, tls) if test_migration else None
    options = {
        **check_options(migration_network, min_link_speed, only, ignore, checks_dir, probe, forks, include_facts),
        "trial": trial,
        "min_rate_mbps": min_rate,
        "min_rate_fraction": min_rate_fraction,
        "guests": guest_selection(guests, guest),
        **guest_schedule(guests or bool(guest), window, parallel),
    }
    selection = Selection(hosts or [], all_pairs or group is not None, group, to_each_other)
    ask = Ask(selection, inventory, facts, facts_dir, become, yes, options, change_ref=change_ref)
    execute(ask, Outputs(output_format or [], output or [], output_stem, report_dir), quiet)


def check_options(
    migration_network: str | None,
    min_link_speed: int | None,
    only: list[str] | None,
    ignore: list[str] | None,
    checks_dir: str | None,
    probe: bool,
    forks: int,
    include_facts: bool,
) -> dict[str, Any]:
    """The run's options `check` and `evacuate` share, by run.request.Request's field names."""
    return {
        "migration_network": migration_network,
        "min_link_speed_mbps": min_link_speed,
        "only": check_names(only),
        "ignore": ignore or [],  # CHECK=REASON holds commas: run.context reads it
        "checks_dir": checks_dir,
        "include_facts": include_facts,
        "probe": probe,
        "forks": forks,
    }


def guest_schedule(guests: bool, window: float | None, parallel: int) -> dict[str, Any]:
    """--window and --parallel, by Request's field names; they schedule guests, so they need some."""
    if not guests and (window is not None or parallel != 1):
        raise fail(
            f"{'--window' if window is not None else '--parallel'} schedules guests' migrations: add --guests or --guest NAME"
        )
    return {"window_s": window, "parallel": parallel}


def evacuate_command(
    src: Src,
    destinations: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="[DST...]",
            help=host_help("The destinations (default: every other host of the inventory, or of --group)"),
            show_default=False,
        ),
    ] = None,
    group: Annotated[
        str | None,
        typer.Option(
            metavar="NAME", help="With no DST: every other host of the inventory group NAME.", rich_help_panel=HOSTS
        ),
    ] = None,
    inventory: Inventory = None,
    become: Become = False,
    forks: Forks = 10,
    facts_dir: FactsDir = None,
    migration_network: MigrationNetwork = None,
    min_link_speed: MinLinkSpeed = None,
    only: Only = None,
    ignore: Ignore = None,
    checks_dir: ChecksDir = None,
    probe: Probe = True,
    guest: GuestNames = None,
    window: Window = None,
    parallel: Parallel = 1,
    output_format: OutputFormat = None,
    output: Output = None,
    output_stem: OutputStem = None,
    report_dir: ReportDir = DEFAULT_REPORT_DIR,
    include_facts: IncludeFacts = False,
    quiet: Quiet = False,
    change_ref: ChangeRef = None,
) -> None:
    """Can SRC be emptied? The path from SRC to each DST judged as `check SRC DST...` judges it, every
    running guest of SRC (or each --guest) judged against each DST, and the plan: where each guest goes,
    and why those that can go nowhere cannot."""
    from migdoctor.run.check import Ask, Selection

    options = {
        **check_options(migration_network, min_link_speed, only, ignore, checks_dir, probe, forks, include_facts),
        "guests": guest_selection(not guest, guest),
        **guest_schedule(True, window, parallel),
    }
    selection = Selection([src, *(destinations or [])], group=group, evacuate=True)
    ask = Ask(selection, inventory, None, facts_dir, become, options=options, change_ref=change_ref)
    execute(ask, Outputs(output_format or [], output or [], output_stem, report_dir), quiet)


def migrate_test_command(
    src: Src,
    dst: Dst,
    inventory: Inventory = None,
    become: Become = False,
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
    report_dir: ReportDir = DEFAULT_REPORT_DIR,
) -> None:
    """Live-migrate a canary from SRC to DST and back, and say which links carried it, how fast.
    The same as `check --test-migration --only migration --no-probe`."""
    from migdoctor.run.check import Ask, Selection, TrialOptions

    options = {
        "only": ["migration"],
        "probe": False,
        "trial": TrialOptions(canary_memory, migrate_uri, one_way, timeout or 0.0, domain, tls),
        "min_rate_mbps": min_rate,
        "min_rate_fraction": min_rate_fraction,
    }
    ask = Ask(Selection([src, dst]), inventory, become=become, yes=yes, options=options)
    execute(ask, Outputs(output_format or [], output or [], output_stem, report_dir), quiet=False)


class Outputs:
    """Where the report goes, as the options say; the plan is made once the run's pairs are known."""

    def __init__(self, formats: list[Format], files: list[Path], stem: str | None, directory: Path) -> None:
        self.formats, self.files, self.stem, self.directory = formats, files, stem, directory
        self.plan: Plan | None = None
        self.default: Path | None = None  # the JSON's file when no option names it

    def planned(self, pairs: list[tuple[str, str]], started_at: datetime) -> list[Path]:
        """Every file the report will be written to (ValueError for options that do not go together)."""
        from migdoctor.report.writers import plan_outputs

        self.default = default_output(self.directory, pairs, started_at)
        self.plan = plan_outputs(self.formats, self.files, self.stem, self.default)
        return list(self.plan.files.values())


def execute(ask: Any, outputs: Outputs, quiet: bool) -> None:
    """Run, write the report in every format asked, show one, say on stderr what the run's
    notes are; exit with the report's status."""
    from dataclasses import replace

    from migdoctor.cli.progress import migration_progress
    from migdoctor.report.document import ReportError
    from migdoctor.report.output import OutputError
    from migdoctor.report.safe import printable
    from migdoctor.run.check import RunError, run_check

    terminal = ask.options.get("trial") is not None and sys.stdout.isatty()
    ask = replace(ask, outputs=outputs.planned, show_progress=lambda: migration_progress(enabled=terminal))
    try:
        outcome = run_check(ask)
        assert outputs.plan is not None  # planned by the run before any host was contacted
        emit(outcome.report, outputs.plan, quiet, outputs.default)
    except (RunError, ReportError, OutputError) as exc:
        raise fail(str(exc)) from None
    for line in outcome.notes:  # pairs not judged, hosts not reached, trials refused: said whatever went to stdout
        typer.echo(f"migdoctor: {printable(line)}", err=True)
    raise typer.Exit(outcome.exit_status)


def emit(report: dict[str, Any], plan: Plan, quiet: bool, default: Path | None) -> None:
    """The JSON first (validated), then the other files, then stdout. The files are named on stderr
    when a person reads stdout; the DEFAULT one, which no option named, always is."""
    from migdoctor.report.document import write_atomically, write_report
    from migdoctor.report.writers import RenderOptions, writer

    write_report(report, plan.files[Format.json])
    for name, path in plan.files.items():
        if name is not Format.json:
            write_atomically(path, writer(name).render(report, RenderOptions(quiet=quiet)))
    if plan.stdout is not None:
        options = RenderOptions(color=sys.stdout.isatty(), quiet=quiet)
        sys.stdout.write(writer(plan.stdout).render(report, options))
    for path in plan.files.values():
        if plan.stdout in (None, Format.text) or path == default:
            typer.echo(f"report: {path}", err=True)


for _command in (check_command, evacuate_command):
    _command.__doc__ = f"{inspect.cleandoc(_command.__doc__ or '')}\n\n{EXIT_HELP}"


class CatalogFormat(StrEnum):
    text = "text"
    markdown = "markdown"
    json = "json"


def checks_command(
    names: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="CHECK...",
            help="Show these checks (an id or an area) in full: what each verifies, why, the usual fix.",
        ),
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
    if unknown is not None:
        raise fail(f"{unknown or repr(unknown)}: no check has that id or area")
    found = select(found, names or None)
    if output_format is CatalogFormat.markdown:
        sys.stdout.write(catalog.render_markdown(found))
    elif output_format is CatalogFormat.json:
        sys.stdout.write(catalog.render_json(found))
    elif names:
        sys.stdout.write(catalog.render_details(found, min(shutil.get_terminal_size().columns, 100)))
    else:
        table = Table(box=None)  # ids are what --only takes: never cut, the titles wrap instead
        table.add_column("id", no_wrap=True, min_width=max((len(check.id) for check in found), default=2))
        for name in ("severity", "title", "origin"):
            table.add_column(name)
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
    """Check a report against its schema and against itself (exit statuses against findings, totals
    against pairs, each pair once, the matrix); exit 1 naming the first problem."""
    from migdoctor.cli.report import read_report

    document = read_report(Path(file), invalid=1)
    typer.echo(f"{file}: valid migdoctor report (schema {document['schema_version']})")
