"""Report writers by name. Each format is one module of this package holding a WRITER; the CLI,
`report render` and the tests pick them from FORMATS, so a new format is one module, its name in
Format and its line in FORMATS. A writer renders the report document alone (never facts or hosts), so any saved report
renders again in every format."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any


class Format(StrEnum):
    text = "text"
    json = "json"
    markdown = "markdown"
    html = "html"
    junit = "junit"


@dataclass(frozen=True)
class Registered:
    module: str  # holds WRITER
    suffix: str  # of the file --output-stem names


FORMATS = {
    Format.text: Registered("migdoctor.report.text", ".txt"),
    Format.json: Registered("migdoctor.report.json_writer", ".json"),
    Format.markdown: Registered("migdoctor.report.markdown", ".md"),
    Format.html: Registered("migdoctor.report.html", ".html"),
    Format.junit: Registered("migdoctor.report.junit", ".xml"),
}


@dataclass(frozen=True)
class RenderOptions:
    color: bool = False  # text on a terminal
    quiet: bool = False  # text: only what did not pass


@dataclass(frozen=True)
class Writer:
    name: Format
    render: Callable[[dict[str, Any], RenderOptions], str]


def writer(name: Format | str) -> Writer:
    """The writer registered under NAME, imported on first use (the CLI's --help stays fast)."""
    found: Writer = importlib.import_module(FORMATS[Format(name)].module).WRITER
    return found


def format_named(value: str) -> Format:
    """A --format value: a format's name, or the suffix its file takes (md, txt, htm, xml); else a
    ValueError naming the choices."""
    by_suffix = {registered.suffix.lstrip("."): name for name, registered in FORMATS.items()}
    found = by_suffix.get("html" if value == "htm" else value) if value not in list(Format) else Format(value)
    if found is None:
        raise ValueError(f"{value!r} is none of {', '.join(Format)} (or md)")
    return found


def format_of(path: Path) -> Format:
    """The format a file name asks for; a name without a known suffix is the JSON report, as
    --output always was."""
    suffix = path.suffix.lower()
    by_suffix = {registered.suffix: name for name, registered in FORMATS.items()}
    return by_suffix.get(".html" if suffix == ".htm" else suffix, Format.json)


RUN_KEYS = ("schema_version", "tool_version", "run_id", "started_at", "ended_at", "duration_s")
OPTIONAL_RUN_KEYS = ("run_by", "accepted_risks")  # schema 3; a report made by the API may lack them


def pairs_of(report: dict[str, Any]) -> Sequence[dict[str, Any]]:
    """The pairs a report covers, each as a one-pair report (the run's metadata, its two hosts as
    source and destination, its own findings); writers iterate over these so a many-pair report
    needs no new writer. A schema 1 report is its one pair; a compact report's pairs are each
    expanded as they are read."""
    from migdoctor.report.compact import expanded_pairs
    from migdoctor.report.encoded import Encoded

    if "pairs" not in report:
        return [report]
    run = {key: report[key] for key in RUN_KEYS}
    run.update({key: report[key] for key in OPTIONAL_RUN_KEYS if key in report})
    hosts = report["hosts"]

    def view(pair: dict[str, Any]) -> dict[str, Any]:
        return {**run, **pair, "hosts": {"source": hosts[pair["source"]], "destination": hosts[pair["destination"]]}}

    pairs = expanded_pairs(report)
    return pairs.mapped(view) if isinstance(pairs, Encoded) else [view(pair) for pair in pairs]


@dataclass
class Plan:
    files: dict[Format, Path]
    stdout: Format | None


def plan_outputs(formats: list[Format], outputs: list[Path], stem: str | None, default_json: Path) -> Plan:
    """Where each format goes. --output FILE names one format's file by its suffix; --output-stem
    STEM names STEM.<suffix> for every requested file format (all of them when no --format is
    given); a STEM that names a directory (empty, `.`, `..`, ending in `/`) is a ValueError. The
    JSON report is always written. At most one format is left for stdout, and --format json always
    prints (the JSON file is written in any case)."""
    if stem is not None and stem.rsplit("/", 1)[-1] in ("", ".", ".."):
        raise ValueError(
            f"--output-stem {stem!r}: names a directory, not the start of a file name (such as reports/kvm1-kvm2)"
        )
    files: dict[Format, Path] = {}
    for path in outputs:
        name = format_of(path)
        if name in files:
            raise ValueError(f"--output {files[name]} and {path}: both are {name}; one file per format")
        files[name] = path
    if stem is not None:
        wanted = formats or [name for name in Format if name is not Format.text]
        for name in [Format.json, *wanted]:
            if name is not Format.text:
                files.setdefault(name, Path(stem + FORMATS[name].suffix))
    files.setdefault(Format.json, default_json)
    shown = [name for name in formats or [Format.text] if name is Format.json or name not in files]
    if len(shown) > 1:
        raise ValueError(
            f"--format {' and '.join(shown)} would all go to stdout: give --output FILE or --output-stem for all but one"
        )
    return Plan(files, shown[0] if shown else None)
