"""The report as JSON: the record every other format is rendered from."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import orjson

from migdoctor.report.encoded import Encoded, json_bytes
from migdoctor.report.writers import Format, RenderOptions, Writer

PLACE = "\u0000pairs\u0000"  # where a fleet's encoded pairs go; no report string holds a NUL
ROWS = "\u0000matrix\u0000"  # where a fleet's matrix goes, one line per source
# C1 controls (U+0080-U+009F) and the bidi controls (U+061C, U+200E-F, U+202A-E, U+2066-9) as
# UTF-8: they can only stand inside JSON strings, where orjson writes them raw.
INVISIBLE = re.compile(rb"\xc2[\x80-\x9f]|\xd8\x9c|\xe2\x80[\x8e\x8f\xaa-\xae]|\xe2\x81[\xa6-\xa9]")


def escaped(text: bytes) -> bytes:
    """JSON TEXT with the invisible controls a host may put in a value written as \\u escapes: raw,
    a C1 control can act on a terminal and a bidi control reorders what a reader of the file sees.
    The same JSON when read; ASCII text (most of a fleet's) is returned without a scan."""
    if text.isascii():
        return text
    return INVISIBLE.sub(lambda found: b"\\u%04x" % ord(found.group().decode()), text)


def json_chunks(report: dict[str, Any]) -> Iterator[bytes]:
    """Indented JSON, UTF-8 (orjson: a fleet's report in a second, not minutes), in pieces: a
    fleet's encoded pairs are set in as the bytes they are, one line each, never all in one string,
    and its matrix one line per source (40,000 cells indented would be a quarter of the file)."""
    pairs = report.get("pairs")
    if not isinstance(pairs, Encoded) or pairs.mapping is not None:
        yield escaped(json_bytes(report, indent=True)) + b"\n"
        return
    matrix = report.get("matrix")
    text = escaped(json_bytes({**report, "pairs": PLACE} | ({"matrix": ROWS} if matrix else {}), indent=True))
    if matrix:
        rows = [escaped(json_bytes({source: row})[1:-1]) for source, row in matrix.items()]
        text = text.replace(orjson.dumps(ROWS), b"{\n    " + b",\n    ".join(rows) + b"\n  }", 1)
    head, _, tail = text.partition(orjson.dumps(PLACE))
    yield head + b"["
    for index, item in enumerate(pairs.items):
        yield b"\n    " if index == 0 else b",\n    "
        yield escaped(item)
    yield b"\n  ]" + tail + b"\n"


def render_json(report: dict[str, Any], _options: RenderOptions) -> str:
    return b"".join(json_chunks(report)).decode()


def facts_json(record: dict[str, Any]) -> str:
    """A facts record as `migdoctor facts --json` prints it and the Ansible collection saves it."""
    return json.dumps(record, indent=2, sort_keys=True) + "\n"


WRITER = Writer(Format.json, render_json)
