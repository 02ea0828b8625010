"""JSON Schemas shipped with migdoctor, and validation against them."""

from __future__ import annotations

import json
from functools import cache
from importlib.resources import files
from typing import Any


@cache
def load_schema(name: str) -> dict[str, Any]:
    return json.loads(files("migdoctor.schemas").joinpath(f"{name}.schema.json").read_text(encoding="utf-8"))


@cache
def fast_validator(name: str, required: tuple[str, ...] | None = None) -> Any:
    """A compiled validator (jsonschema-rs) that says only whether a document is valid: a fleet's
    report and facts are validated in milliseconds where jsonschema takes minutes. REQUIRED, when
    given, stands for the schema's required parts (a second-round facts answer holds only those)."""
    import jsonschema_rs

    schema = load_schema(name)
    return jsonschema_rs.validator_for(
        {**schema, "required": list(required)} if required else schema, validate_formats=True
    )


def schema_errors(name: str, document: Any, separator: str = "/") -> list[str]:
    """Every violation, as 'path: message', so a bad record is explained in one go (jsonschema
    words them, and is asked only when the fast validator finds something)."""
    if fast_validator(name).is_valid(document):
        return []
    return errors_against(load_schema(name), document, separator)


# A second-round facts answer (`facts --json --lookups-only`) holds only these parts.
LOOKUPS_ONLY_PARTS = ("route_lookups", "resolution", "missing")


def facts_problem(document: Any, lookups_only: bool = False) -> str | None:
    """Why DOCUMENT is not a facts record this migdoctor can judge, in one line, or None. A record
    from another migdoctor version says so: the fix is the same version on both ends."""
    from migdoctor import __version__
    from migdoctor.facts import SCHEMA_VERSION

    if fast_validator("facts", LOOKUPS_ONLY_PARTS if lookups_only else None).is_valid(document):
        return None
    schema = load_schema("facts")
    errors = errors_against({**schema, "required": list(LOOKUPS_ONLY_PARTS)} if lookups_only else schema, document)
    if not errors:
        return None
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    theirs = document if isinstance(document, dict) else {}
    if theirs.get("schema_version", SCHEMA_VERSION) != SCHEMA_VERSION or theirs.get("tool_version", __version__) != (
        __version__
    ):
        return (
            f"facts from migdoctor {theirs.get('tool_version')} (facts schema {theirs.get('schema_version')}), but "
            f"this control node runs migdoctor {__version__} (facts schema {SCHEMA_VERSION}): install the same "
            f"version on both; first difference: {errors[0]}{more}"
        )
    return f"not a migdoctor facts record: {errors[0]}{more}"


def errors_against(schema: dict[str, Any], document: Any, separator: str = "/") -> list[str]:
    from jsonschema import Draft202012Validator

    validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
    return [
        f"{separator.join(map(str, error.absolute_path)) or '(top)'}: {error.message}"
        for error in sorted(validator.iter_errors(document), key=lambda e: list(map(str, e.absolute_path)))
    ]
