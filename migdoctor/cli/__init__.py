"""The command line. Heavy libraries (libvirt, pyroute2, dnspython) are imported inside the
commands that need them, so `migdoctor --help` and `--version` stay fast."""

from typing import Annotated

import typer

from migdoctor import __version__
from migdoctor.cli.check import (
    check_command,
    checks_command,
    evacuate_command,
    migrate_test_command,
    report_app,
    schema_command,
)
from migdoctor.cli.facts import facts_command
from migdoctor.cli.lab import lab_app
from migdoctor.cli.options import Panelled
from migdoctor.cli.report import diff_command, render_command
from migdoctor.cli.watch import watch_command

app = typer.Typer(
    name="migdoctor",
    help="Find out which network a live migration between two hypervisors will take, and why.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # help texts show [user@] and [:port] literally
)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"migdoctor {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_print_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """Find out which network a live migration between two hypervisors will take, and why."""


app.command("check", cls=Panelled)(check_command)
app.command("evacuate", cls=Panelled)(evacuate_command)
app.command("checks")(checks_command)
app.command("migrate-test", cls=Panelled)(migrate_test_command)
app.command("watch")(watch_command)
app.command("facts")(facts_command)
app.command("schema")(schema_command)
report_app.command("render")(render_command)
report_app.command("diff")(diff_command)
app.add_typer(report_app, name="report")
app.add_typer(lab_app, name="lab")
