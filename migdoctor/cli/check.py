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

from migdoctor.cli.facts import Become, fail, number
from migdoctor.report.writers import Format, Plan

MAX_MBPS = 10_000_000  # 10 Tb/s: no link is faster, and a rate above it is a typo
EXIT_HELP = (
    "Exit status: 0 every check passed (warnings, skips and ignored failures allowed) and the path is known; "
    "1 a check failed or raised; 2 could not run (a host unreachable, bad input, a refused test migration); "
    "3 incomplete: the path could not be determined (the migration network, the advertised name's address, "
    "the route or the carrying link unknown), so it is not a pass. Of several pairs: 1 if any failed, "
    "else 2 if any could not run, else 3 if any is incomplete, else 0."
)


def refuse_bad_file(gathered: Any) -> None:
    """`--facts SRC.json DST.json` names two files to judge: one that is not facts is the run's
    one-line error (a facts directory's bad file only takes its host's pairs out)."""
    for side in gathered.hosts.values():
        if side.error:
            raise fail(side.error)


def default_output(pairs: list[tuple[str, str]], started_at: datetime) -> Path:
    """reports/<UTC time>_<src>_<dst>.json for one pair, <UTC time>_<n>-pairs.json for more."""
    name = "_".join(pairs[0]) if len(pairs) == 1 else f"{len(pairs)}-pairs"
    safe = "".join(c if c.isalnum() or c in "-._" else "_" for c in name)
    return Path("reports") / f"{started_at:%Y%m%dT%H%M%SZ}_{safe}.json"


TrialOption = Annotated[
    bool, typer.Option("--test-migration", help="Also live-migrate a canary guest and back, timed.")
]
CanaryMemory = Annotated[
    int, typer.Option(metavar="MIB", min=64, max=2**20, help="Canary RAM; most of it random payload.")
]
MigrateUri = Annotated[
    str | None, typer.Option(metavar="URI", help="Migration URI override (default: none, as plain virsh migrate).")
]
OneWay = Annotated[bool, typer.Option(help="Do not migrate the canary back.")]
Timeout = Annotated[
    float | None,
    typer.Option(
        metavar="SECONDS",
        parser=number(1, 86400),
        help="Abort a migration leg after this (default: sized to the canary).",
    ),
]
Domain = Annotated[
    str | None, typer.Option(metavar="NAME", help="Migrate this existing domain instead of a canary (needs --yes).")
]
Yes = Annotated[bool, typer.Option("--yes", help="Confirm migrating the --domain named.")]
MinRate = Annotated[
    float | None,
    typer.Option(metavar="MBPS", parser=number(0, MAX_MBPS), help="Fail a test migration slower than this."),
]
MinRateFraction = Annotated[
    float,
    typer.Option(
        metavar="FRACTION",
        parser=number(0, 1),
        help="Fail a test migration below this share of its link's effective speed.",
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
    str | None,
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
Hosts = Annotated[
    list[str] | None,
    typer.Argument(
        metavar="SRC DST [DST...]",
        help="The source, then one destination or more (an evacuation): inventory name, 'local', "
        "ssh://[user@]host[:port], lab:HOST.",
    ),
]


def check_names(values: list[str] | None) -> list[str] | None:
    """--only as given: repeated, or comma-separated as a CI variable holds a list.
    Blanks name nothing, so `--only "$EMPTY"` is an empty selection (refused), not every check."""
    if values is None:
        return None
    return [name.strip() for value in values for name in value.split(",") if name.strip()]


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
    if not enabled:
        return None
    from migdoctor.actions.migration import TrialOptions

    if domain and not yes:
        raise fail(f"--domain {domain}: migrating an existing domain needs --yes")
    return TrialOptions(memory, uri, one_way, timeout or 0.0, domain, tls)


def check_command(
    hosts: Hosts = None,
    all_pairs: Annotated[
        bool, typer.Option("--all", help="Every ordered pair of the inventory's hosts (or of --facts-dir's files).")
    ] = False,
    group: Annotated[
        str | None, typer.Option(metavar="NAME", help="With --all: every ordered pair of the inventory group NAME.")
    ] = None,
    to_each_other: Annotated[
        bool, typer.Option("--to-each-other", help="Every ordered pair among the HOSTS given.")
    ] = False,
    forks: Annotated[int, typer.Option(metavar="N", min=1, max=1000, help="Reach at most N hosts at once.")] = 10,
    facts_dir: Annotated[
        Path | None,
        typer.Option(
            metavar="DIR",
            help="Judge saved facts, one HOST.json per host (what `migdoctor facts HOST --json` prints); "
            "no host is contacted.",
        ),
    ] = None,
    migration_network: Annotated[
        str | None,
        typer.Option(
            metavar="CIDR[,CIDR]",
            help="The network migrations should take, one prefix per family (else inventory, else inferred).",
        ),
    ] = None,
    min_link_speed: Annotated[
        int | None,
        typer.Option(metavar="MBPS", min=1, max=MAX_MBPS, help="Fail links slower than this (speed or shaping)."),
    ] = None,
    only: Annotated[
        list[str] | None,
        typer.Option(metavar="ID|AREA[,...]", help="Run only these checks or areas (repeatable, or comma-separated)."),
    ] = None,
    ignore: Annotated[
        list[str] | None,
        typer.Option(
            metavar="ID|AREA[,...] | ID=REASON",
            help="Accepted risk: keep the finding, listed under 'Accepted risks' with REASON "
            "(repeatable, or comma-separated ids).",
        ),
    ] = None,
    change_ref: Annotated[
        str | None, typer.Option(metavar="TICKET", help="The change request this run is for, named in the report.")
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
    """Judge whether migrations from SRC to each DST (or between all hosts) take the migration network, and why."""
    from migdoctor.run.context import accepted_risks, run_by

    trial = trial_options(test_migration, canary_memory, migrate_uri, one_way, timeout, domain, yes, tls)
    selection = Selection(hosts or [], all_pairs or group is not None, group, to_each_other)
    request = build_request(selection, inventory, facts, facts_dir, become)
    request.migration_network, request.min_link_speed_mbps = migration_network, min_link_speed
    request.only, request.checks_dir = check_names(only), checks_dir
    try:
        request.reasons, request.run_by = accepted_risks(ignore), run_by(change_ref)
    except ValueError as exc:
        raise fail(str(exc)) from None
    request.ignore = list(request.reasons)
    saved = facts is not None or facts_dir is not None
    request.include_facts, request.probe, request.trial = include_facts, probe and not saved, trial
    request.min_rate_mbps, request.min_rate_fraction, request.forks = min_rate, min_rate_fraction, forks
    if saved and trial:
        raise fail("--test-migration needs the hosts themselves, not saved facts")
    execute(request, facts, saved, Outputs(output_format or [], output or [], output_stem), quiet)


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
    request = build_request(Selection([src, dst]), inventory, None, None, become)
    request.only, request.probe = ["migration"], False
    request.trial = trial_options(True, canary_memory, migrate_uri, one_way, timeout, domain, yes, tls)
    request.min_rate_mbps, request.min_rate_fraction = min_rate, min_rate_fraction
    execute(request, None, False, Outputs(output_format or [], output or [], output_stem), quiet=False)


@dataclass
class Selection:
    """Which hosts and pairs the command line names."""

    hosts: list[str]
    all: bool = False
    group: str | None = None
    to_each_other: bool = False

    def labels(self, inventory: Any, saved: dict[str, Path] | None) -> list[str]:
        """The hosts, each once: those named, or the group's, or the facts directory's (SAVED),
        or the inventory's."""
        if not self.all:
            return self.hosts if not self.to_each_other else list(dict.fromkeys(self.hosts))
        if self.hosts:
            raise ValueError(f"--all takes no HOST (got {' '.join(self.hosts)}); use --to-each-other HOST... for those")
        if self.group is not None:
            if self.group not in inventory.groups:
                known = ", ".join(sorted(inventory.groups)) or "none"
                raise ValueError(
                    f"--group {self.group}: no such group in {inventory.path or 'the inventory'} (groups: {known})"
                )
            return list(dict.fromkeys(inventory.groups[self.group]))
        return list(saved) if saved is not None else list(inventory.hosts)

    def pairs(self, labels: list[str]) -> list[tuple[str, str]]:
        from migdoctor.run.request import each_other, evacuation

        if len(labels) < 2:
            what = "--all" if self.all else "--to-each-other" if self.to_each_other else "check"
            raise ValueError(f"{what}: needs two hosts or more (got {', '.join(labels) or 'none'})")
        return each_other(labels) if self.all or self.to_each_other else evacuation(labels[0], labels[1:])


def build_request(
    selection: Selection,
    inventory: str | None,
    facts: tuple[str, str] | None,
    facts_dir: Path | None,
    become: bool = False,
) -> Any:
    """The run: its hosts reached by their inventory entries, or read from saved facts."""
    from migdoctor.run.request import Request
    from migdoctor.run.saved import facts_files
    from migdoctor.transports import Host, TransportError, resolve_host
    from migdoctor.transports.inventory import InventoryError, load_inventory

    saved = facts is not None or facts_dir is not None
    if facts is not None and facts_dir is not None:
        raise fail("--facts and --facts-dir: give one of them")
    try:
        loaded = load_inventory(inventory, lab=not saved)
        files = facts_files(facts_dir) if facts_dir is not None else {}
        labels = selection.labels(loaded, files if facts_dir is not None else None)
        if facts is not None:
            if len(labels) != 2 or selection.all or selection.to_each_other:
                raise ValueError("--facts SRC.json DST.json judges one pair: name SRC and DST")
            files = dict(zip(labels, map(Path, facts), strict=True))
        pairs = selection.pairs(labels)
        if not saved:
            hosts = [resolve_host(label, loaded, become) for label in dict.fromkeys(labels)]
            return Request(hosts, pairs, loaded)
    except (InventoryError, TransportError, ValueError) as exc:
        raise fail(str(exc)) from None

    def saved_host(label: str) -> Host:
        entry = loaded.hosts.get(label, {})
        path = files.get(label, (facts_dir or Path()) / f"{label}.json")
        return Host(
            label,
            "file",
            str(path),
            libvirt_uri=entry.get("libvirt_uri"),
            peer_libvirt_uri=entry.get("peer_libvirt_uri"),
        )

    return Request([saved_host(label) for label in dict.fromkeys(labels)], pairs, loaded)


@dataclass
class Outputs:
    formats: list[Format]
    files: list[Path]
    stem: str | None


def execute(request: Any, facts: tuple[str, str] | None, saved: bool, outputs: Outputs, quiet: bool) -> None:
    """Collect (or load), judge, write the report in every format asked, show one; exit with the
    report's status."""
    from migdoctor.actions.migration import TrialRefused
    from migdoctor.cli.progress import migration_progress
    from migdoctor.engine import DiscoveryError
    from migdoctor.report.document import ReportError
    from migdoctor.report.output import OutputError, real_target
    from migdoctor.report.safe import printable
    from migdoctor.report.writers import plan_outputs
    from migdoctor.run.collect import collect
    from migdoctor.run.judge import judge
    from migdoctor.run.request import prepare
    from migdoctor.run.saved import load_saved
    from migdoctor.run.trial import refusal_note
    from migdoctor.transports import TransportError

    started, started_at = time.monotonic(), datetime.now(UTC)
    try:
        plan = plan_outputs(outputs.formats, outputs.files, outputs.stem, default_output(request.pairs, started_at))
    except ValueError as exc:
        raise fail(str(exc)) from None
    try:
        prepare(request)  # validate first, act later: nothing below runs on a bad option
        inputs = [host.target for host in request.hosts if host.transport == "file"] + [request.inventory.path]
        for path in plan.files.values():
            real_target(path, [given for given in inputs if given])
        if saved:
            sides = dict(zip([host.label for host in request.hosts], ("source", "destination"), strict=False))
            gathered = load_saved(request, sides if facts else None)
            if facts:
                refuse_bad_file(gathered)
        else:
            with migration_progress(enabled=request.trial is not None and sys.stdout.isatty()) as progress:
                request.progress = progress
                gathered = collect(request)
        report = judge(request, gathered, started, started_at)
        emit(report, plan, quiet)
    except (DiscoveryError, ReportError, TrialRefused, TransportError, ValueError, OutputError) as exc:
        raise fail(str(exc)) from None
    for line in request.dropped:  # judged without them: said whatever went to stdout
        typer.echo(f"migdoctor: {printable(line)}", err=True)
    for host in report["hosts"].values():
        if not host["reached"]:  # exit 2: say which host, whatever went to stdout
            typer.echo(f"migdoctor: {printable(host['error'])}", err=True)
    for pair in report["pairs"] if request.trial else []:  # exit 2 too: whose trial was refused, and why
        if refused := (pair["migration_trial"] or {}).get("refused"):
            typer.echo(f"migdoctor: {printable(refusal_note(pair['source'], pair['destination'], refused))}", err=True)
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
        typer.Option(
            "--format",
            help="text: a table, or the named checks in full; markdown: the checks reference (docs/checks.md).",
        ),
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
    """Check a report against its schema and against itself (exit statuses against findings, totals
    against pairs, each pair once, the matrix); exit 1 naming the first problem."""
    from migdoctor.cli.report import read_report

    document = read_report(Path(file), invalid=1)
    typer.echo(f"{file}: valid migdoctor report (schema {document['schema_version']})")
