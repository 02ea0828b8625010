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
GUESTS = "Guests"
HOSTS = "Hosts"
SAVED = "Saved facts"
CHECKS = "Checks"
TRIAL = "Test migration"
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
        help="Guests migrating at once, sharing the migration network's bandwidth (the prediction's; default 1).",
        rich_help_panel=GUESTS,
    ),
]
