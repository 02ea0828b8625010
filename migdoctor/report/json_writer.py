"""The report as JSON: the record every other format is rendered from."""

from __future__ import annotations

from typing import Any

import orjson

from migdoctor.report.encoded import Encoded
from migdoctor.report.writers import Format, RenderOptions, Writer

PLACE = "\u0000pairs\u0000"  # where a fleet's encoded pairs go; no report string holds a NUL


def render_json(report: dict[str, Any], _options: RenderOptions) -> str:
    """Indented JSON, UTF-8 as written (orjson: a fleet's report in a second, not minutes). A
    fleet's encoded pairs are set in as they are, one line each."""
    pairs = report.get("pairs")
    if not isinstance(pairs, Encoded) or pairs.mapping is not None:
        return orjson.dumps(report, default=str, option=orjson.OPT_INDENT_2).decode() + "\n"
    text = orjson.dumps({**report, "pairs": PLACE}, default=str, option=orjson.OPT_INDENT_2).decode()
    lines = ",\n    ".join(item.decode() for item in pairs.items)
    return text.replace(orjson.dumps(PLACE).decode(), f"[\n    {lines}\n  ]", 1) + "\n"


WRITER = Writer(Format.json, render_json)
