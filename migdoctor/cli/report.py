"""`migdoctor report render` and `report diff`: saved reports turned into other formats, and two
reports of one pair compared."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from migdoctor.cli.options import fail
from migdoctor.report.writers import Format

ReportFile = Annotated[Path, typer.Argument(metavar="FILE", help="A JSON report written by migdoctor check.")]


def read_report(path: Path, invalid: int = 2) -> dict[str, Any]:
    """A saved report, validated; else exit (2 unreadable, INVALID not a report) naming the file
    and the first problem."""
    from migdoctor.bounded import parse_json, read_input
    from migdoctor.report.document import ReportError, validate_report

    try:
        document = parse_json(read_input(path))
        validate_report(document)  # its schema, and what the schema cannot say (its own consistency)
    except OSError as exc:
        raise fail(f"{path}: cannot read: {exc.strerror}") from None
    except json.JSONDecodeError as exc:
        raise fail(f"{path}: not JSON: {exc.msg} at line {exc.lineno}", invalid) from None
    except (ReportError, ValueError) as exc:  # not a regular file, not UTF-8, endless, nested without end
        raise fail(f"{path}: {exc}", invalid) from None
    return document


def deliver(text: str, output: Path | None, inputs: list[Path]) -> None:
    """TEXT to stdout, or to OUTPUT unless that is one of the INPUTS."""
    from migdoctor.report.document import ReportError, write_atomically
    from migdoctor.report.output import OutputError, real_target

    if output is None:
        sys.stdout.write(text)
        return
    try:
        real_target(output, inputs)
        write_atomically(output, text)
    except (ReportError, OutputError) as exc:
        raise fail(str(exc)) from None


def format_option(value: str) -> Format:
    from migdoctor.report.writers import format_named

    try:
        return format_named(value)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None


def render_command(
    file: ReportFile,
    output_format: Annotated[
        Format | None,
        typer.Option(
            "--format",
            metavar="text|json|markdown|md|html|junit",
            parser=format_option,
            help="The format to render (default: by --output's suffix as `check` does, else text).",
        ),
    ] = None,
    output: Annotated[Path | None, typer.Option(metavar="FILE", help="Write here instead of stdout.")] = None,
) -> None:
    """Render a saved report again, in any format, from the JSON alone (no host is contacted)."""
    from migdoctor.report.writers import RenderOptions, format_of, writer

    if output_format is None:
        output_format = Format.text if output is None else format_of(output)
    report = read_report(file)
    color = output is None and sys.stdout.isatty()
    deliver(writer(output_format).render(report, RenderOptions(color=color)), output, [file])


class DiffFormat(StrEnum):
    text = "text"
    markdown = "markdown"
    json = "json"


def diff_command(
    old: Annotated[Path, typer.Argument(metavar="OLD", help="The earlier report.")],
    new: Annotated[Path, typer.Argument(metavar="NEW", help="The later report of the same pairs.")],
    output_format: Annotated[DiffFormat, typer.Option("--format", help="How to show it.")] = DiffFormat.text,
    output: Annotated[Path | None, typer.Option(metavar="FILE", help="Write here instead of stdout.")] = None,
) -> None:
    """What changed between two reports of the same pairs, pair by pair: path, carrying link,
    findings, facts, measured rate. A check that passed or failed and now skips or is absent is no
    longer verified, which is worse. Exit status: 0 NEW is no worse than OLD; 1 a check regressed
    or is no longer verified; 2 cannot compare (no pair in common)."""
    from migdoctor.report.diff import RENDERERS, NotComparable, compare

    try:
        diff = compare(read_report(old), read_report(new))
    except NotComparable as exc:
        raise fail(str(exc)) from None
    deliver(RENDERERS[output_format](diff), output, [old, new])
    raise typer.Exit(1 if diff["regressed"] else 0)
