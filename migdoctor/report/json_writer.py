"""The report as JSON: the record every other format is rendered from."""

from __future__ import annotations

import json
from typing import Any

from migdoctor.report.writers import Format, RenderOptions, Writer


def render_json(report: dict[str, Any], _options: RenderOptions) -> str:
    return json.dumps(report, indent=2, default=str) + "\n"


def facts_json(record: dict[str, Any]) -> str:
    """A facts record as `migdoctor facts --json` prints it and the Ansible collection saves it."""
    return json.dumps(record, indent=2, sort_keys=True) + "\n"


WRITER = Writer(Format.json, render_json)
