"""The options several commands share, declared once: how hosts are reached (`check`, `facts`,
`watch`, `migrate-test`), the test migration's knobs and where reports go (`check`,
`migrate-test`). A metavar is one upper-case word for what is given (FILE, DIR, NAME, MBPS), a
list is X[,X...]; the choices are said in the help. Options are grouped in `--help` by panel."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperCommand

from migdoctor.report.writers import Format
from migdoctor.transports import host_forms

EXIT_BAD_INPUT = 2
MAX_MBPS = 10_000_000  # 10 Tb/s: no link is faster, and a rate above it is a typo
REPORT_DIR_ENV = "MIGDOCTOR_REPORT_DIR"

MAX_WINDOW_S = 7 * 86400  # a maintenance window longer than a week is a typo
DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
HOSTS = "Hosts"
SAVED = "Saved facts"
CHECKS = "Checks"
TRIAL = "Test migration"
GUESTS = "Guests"
REPORT = "Report"


class Panelled(TyperCommand):
    """A command whose --help lists its options under their rich_help_panel's heading, in the
    order declared, as plain text (the help keeps [user@] and [:port] literal, which rich markup
    would not); options of no panel come last, under "Options"."""

    def format_options(self, ctx: Any, formatter: Any) -> None:  # typer vendors click: its own types
        arguments: list[tuple[str, str]] = []
        panels: dict[str, list[tuple[str, str]]] = {}
        for param in self.get_params(ctx):
            record = param.get_help_record(ctx)
            if record is None:
                continue
            if param.param_type_name == "argument":
                arguments.append(record)
            else:
                panels.setdefault(getattr(param, "rich_help_panel", None) or "Options", []).append(record)
        panels["Options"] = panels.pop("Options", [])
        for title, rows in [("Arguments", arguments), *panels.items()]:
            if rows:
                with formatter.section(title):
                    formatter.write_dl(rows)


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


def duration(text: str) -> float:
    """--window's parser: seconds, or a number with a unit s, m, h or d (`45m`, `2h`, `1.5h`), from
    1 s to a week."""
    number, unit = (text[:-1], text[-1]) if text[-1:].lower() in DURATION_UNITS else (text, "s")
    try:
        seconds = float(number) * DURATION_UNITS[unit.lower()]
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not a duration (seconds, or with a unit: 45m, 2h)") from None
    if not 1 <= seconds <= MAX_WINDOW_S:  # nan and inf too
        raise typer.BadParameter(f"{text} is not a duration from 1 s to {MAX_WINDOW_S // 86400} days")
    return seconds


def fail(message: str, code: int = EXIT_BAD_INPUT) -> typer.Exit:
    """One line on stderr, no traceback: what admins expect from a CLI tool."""
    from migdoctor.report.safe import printable

    typer.echo(f"migdoctor: {printable(message)}", err=True)
    return typer.Exit(code)


def host_help(what: str) -> str:
    """WHAT the host argument is, then the forms a host is given in (each transport's own)."""
    *forms, last = host_forms()
    return f"{what}: {', '.join(forms)} or {last}."


Inventory = Annotated[
    str | None,
    typer.Option(
        "--inventory",
        "-i",
        metavar="FILE",
        help="Inventory (TOML, or Ansible's: a file, directory or script); default $MIGDOCTOR_INVENTORY, else none.",
        rich_help_panel=HOSTS,
    ),
]
Become = Annotated[
    bool,
    typer.Option(
        "--become",
        help="Run the far side under `sudo -n` (as the inventory's become_user, else root).",
        rich_help_panel=HOSTS,
    ),
]
Src = Annotated[str, typer.Argument(metavar="SRC", help=host_help("The source host"))]
Dst = Annotated[str, typer.Argument(metavar="DST", help=host_help("The destination host"))]

CanaryMemory = Annotated[
    int,
    typer.Option(
        metavar="MIB", min=64, max=2**20, help="Canary RAM; most of it random payload.", rich_help_panel=TRIAL
    ),
]
MigrateUri = Annotated[
    str | None,
    typer.Option(
        metavar="URI", help="Migration URI override (default: none, as plain virsh migrate).", rich_help_panel=TRIAL
    ),
]
MigrateTls = Annotated[
    bool,
    typer.Option(
        "--tls",
        help="Test migration over TLS (virsh migrate --tls): QEMU's migration certificates on both hosts.",
        rich_help_panel=TRIAL,
    ),
]
OneWay = Annotated[bool, typer.Option(help="Do not migrate the canary back.", rich_help_panel=TRIAL)]
Timeout = Annotated[
    float | None,
    typer.Option(
        metavar="SECONDS",
        parser=number(1, 86400),
        help="Abort a migration leg after this (default: sized to the canary).",
        rich_help_panel=TRIAL,
    ),
]
Domain = Annotated[
    str | None,
    typer.Option(
        metavar="NAME", help="Migrate this existing domain instead of a canary (needs --yes).", rich_help_panel=TRIAL
    ),
]
Yes = Annotated[bool, typer.Option("--yes", help="Confirm migrating the --domain named.", rich_help_panel=TRIAL)]
MinRate = Annotated[
    float | None,
    typer.Option(
        metavar="MBPS",
        parser=number(0, MAX_MBPS),
        help="Fail a test migration slower than this.",
        rich_help_panel=TRIAL,
    ),
]
MinRateFraction = Annotated[
    float,
    typer.Option(
        metavar="FRACTION",
        parser=number(0, 1),
        help="Fail a test migration below this share of its link's effective speed.",
        rich_help_panel=TRIAL,
    ),
]

OutputFormat = Annotated[
    list[Format] | None,
    typer.Option(
        "--format",
        metavar="FORMAT",
        help="text, json, markdown, html or junit (repeatable); those without a file go to stdout. Default text.",
        rich_help_panel=REPORT,
    ),
]
Output = Annotated[
    list[Path] | None,
    typer.Option(
        metavar="FILE",
        help="A report file, its format by suffix (.json .html .md .xml .txt; other: JSON); repeatable. "
        "The JSON is always written (default: in --report-dir, and then named on stderr).",
        rich_help_panel=REPORT,
    ),
]
OutputStem = Annotated[
    str | None,
    typer.Option(
        metavar="STEM",
        help="Write STEM.json and STEM.html/.md/.xml for each --format (all without one).",
        rich_help_panel=REPORT,
    ),
]
ReportDir = Annotated[
    Path,
    typer.Option(
        metavar="DIR",
        envvar=REPORT_DIR_ENV,
        help="Where the JSON report goes when no --output or --output-stem names it: DIR/<UTC time>_<src>_<dst>.json "
        "(created when missing).",
        rich_help_panel=REPORT,
    ),
]

FactsDir = Annotated[
    Path | None,
    typer.Option(
        metavar="DIR",
        help="Judge saved facts, one HOST.json per host (what `migdoctor facts HOST --json` prints); "
        "no host is contacted.",
        rich_help_panel=SAVED,
    ),
]
Group = Annotated[
    str | None,
    typer.Option(
        metavar="NAME", help="With --all: every ordered pair of the inventory group NAME.", rich_help_panel=HOSTS
    ),
]
Forks = Annotated[
    int, typer.Option(metavar="N", min=1, max=1000, help="Reach at most N hosts at once.", rich_help_panel=HOSTS)
]
MigrationNetwork = Annotated[
    str | None,
    typer.Option(
        metavar="CIDR[,CIDR]",
        help="The network migrations should take, one prefix per family (else inventory, else inferred).",
        rich_help_panel=CHECKS,
    ),
]
MinLinkSpeed = Annotated[
    int | None,
    typer.Option(
        metavar="MBPS",
        min=1,
        max=MAX_MBPS,
        help="Fail links slower than this (speed or shaping).",
        rich_help_panel=CHECKS,
    ),
]
Only = Annotated[
    list[str] | None,
    typer.Option(
        metavar="CHECK[,CHECK...]",
        help="Run only these checks (an id or an area; repeatable, or comma-separated).",
        rich_help_panel=CHECKS,
    ),
]
Ignore = Annotated[
    list[str] | None,
    typer.Option(
        metavar="CHECK[,CHECK...]",
        help="Accepted risk: keep the finding, listed under 'Accepted risks' (an id or an area; repeatable, or "
        "comma-separated); CHECK=REASON records why.",
        rich_help_panel=CHECKS,
    ),
]
ChecksDir = Annotated[
    str | None, typer.Option(metavar="DIR", help="Load drop-in check modules from DIR.", rich_help_panel=CHECKS)
]
Probe = Annotated[
    bool,
    typer.Option(
        help="Open a listener on DST and connect to it from SRC, and open DST's libvirt URI from SRC as its "
        "libvirtd would (nothing is left behind).",
        rich_help_panel=CHECKS,
    ),
]
AllGuests = Annotated[
    bool,
    typer.Option(
        "--guests",
        help="Also judge every running guest on SRC against each DST (read-only libvirt calls), and plan where each goes.",
        rich_help_panel=GUESTS,
    ),
]
GuestNames = Annotated[
    list[str] | None,
    typer.Option(
        "--guest",
        metavar="NAME",
        help="Judge this running guest of SRC against each DST (repeatable), and plan where each goes.",
        rich_help_panel=GUESTS,
    ),
]
Window = Annotated[
    float | None,
    typer.Option(
        metavar="DURATION",
        parser=duration,
        help="The maintenance window: fail when the guests' predicted migrations do not fit in it "
        "(seconds, or 45m, 2h, 1d).",
        rich_help_panel=GUESTS,
    ),
]
Parallel = Annotated[
    int,
    typer.Option(
        metavar="N",
        min=1,
        max=64,
        help="How many guests the schedule migrates at once, sharing the migration network's bandwidth.",
        rich_help_panel=GUESTS,
    ),
]
IncludeFacts = Annotated[bool, typer.Option(help="Put both hosts' facts into the report.", rich_help_panel=REPORT)]
Quiet = Annotated[
    bool, typer.Option("--quiet", "-q", help="Text output: only what did not pass.", rich_help_panel=REPORT)
]
ChangeRef = Annotated[
    str | None,
    typer.Option(
        metavar="TICKET", help="The change request this run is for, named in the report.", rich_help_panel=REPORT
    ),
]


def guest_selection(every: bool, names: list[str] | None) -> tuple[str, ...] | None:
    """The guests asked for: None when none, () for every running guest (--guests), else the names
    (--guest), each once. A blank name, or --guests beside --guest, is a one-line error."""
    if not every and not names:
        return None
    if every and names:
        raise fail(f"--guests judges every running guest; --guest {names[0]} names one: give one of them")
    for name in names or []:
        if not name.strip() or "/" in name:
            raise fail(f"--guest {name!r}: not a guest name (libvirt names are not blank and hold no '/')")
    return () if every else tuple(dict.fromkeys(names or []))
