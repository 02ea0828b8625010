"""The report as JSON: the record every other format is rendered from."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import orjson

from migdoctor.report.encoded import Encoded
from migdoctor.report.writers import Format, RenderOptions, Writer

PLACE = "\u0000pairs\u0000"  # where a fleet's encoded pairs go; no report string holds a NUL


def json_chunks(report: dict[str, Any]) -> Iterator[bytes]:
    """Indented JSON, UTF-8 (orjson: a fleet's report in a second, not minutes), in pieces: a
    fleet's encoded pairs are set in as the bytes they are, one line each, never all in one string."""
    pairs = report.get("pairs")
    if not isinstance(pairs, Encoded) or pairs.mapping is not None:
        yield orjson.dumps(report, default=str, option=orjson.OPT_INDENT_2) + b"\n"
        return
    text = orjson.dumps({**report, "pairs": PLACE}, default=str, option=orjson.OPT_INDENT_2)
    head, _, tail = text.partition(orjson.dumps(PLACE))
    yield head + b"["
    for index, item in enumerate(pairs.items):
        yield b"\n    " if index == 0 else b",\n    "
        yield item
    yield b"\n  ]" + tail + b"\n"


def render_json(report: dict[str, Any], _options: RenderOptions) -> str:
    return b"".join(json_chunks(report)).decode()


def facts_json(record: dict[str, Any]) -> str:
    """A facts record as `migdoctor facts --json` prints it and the Ansible collection saves it."""
    return json.dumps(record, indent=2, sort_keys=True) + "\n"


WRITER = Writer(Format.json, render_json)
