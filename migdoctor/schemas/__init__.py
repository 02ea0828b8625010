"""JSON Schemas shipped with migdoctor, and validation against them."""

from __future__ import annotations

import json
from functools import cache
from importlib.resources import files
from typing import Any


@cache
def load_schema(name: str) -> dict[str, Any]:
    return json.loads(files("migdoctor.schemas").joinpath(f"{name}.schema.json").read_text(encoding="utf-8"))


def schema_errors(name: str, document: Any, separator: str = "/") -> list[str]:
    """Every violation, as 'path: message', so a bad record is explained in one go."""
    from jsonschema import Draft202012Validator

    validator = Draft202012Validator(load_schema(name), format_checker=Draft202012Validator.FORMAT_CHECKER)
    return [
        f"{separator.join(map(str, error.absolute_path)) or '(top)'}: {error.message}"
        for error in sorted(validator.iter_errors(document), key=lambda e: list(map(str, e.absolute_path)))
    ]
