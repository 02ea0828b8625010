"""JSON Schemas shipped with migdoctor, and validation against them."""

from __future__ import annotations

import json
from functools import cache
from importlib.resources import files
from typing import Any


@cache
def load_schema(name: str, required: tuple[str, ...] | None = None) -> dict[str, Any]:
    """The schema NAME; REQUIRED, when given, stands for its required parts (a second-round facts
    answer holds only those)."""
    if required is not None:
        return {**load_schema(name), "required": list(required)}
    return json.loads(files("migdoctor.schemas").joinpath(f"{name}.schema.json").read_text(encoding="utf-8"))


@cache
def fast_validator(name: str, required: tuple[str, ...] | None = None) -> Any:
    """A compiled validator (jsonschema-rs) of load_schema(NAME, REQUIRED) that says only whether a
    document is valid: a fleet's report and facts are validated in milliseconds where jsonschema
    takes minutes."""
    import jsonschema_rs

    return jsonschema_rs.validator_for(load_schema(name, required), validate_formats=True)


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

    required = LOOKUPS_ONLY_PARTS if lookups_only else None
    name = facts_schema(document)
    if fast_validator(name, required).is_valid(document):
        return None
    errors = errors_against(load_schema(name, required), document)
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


def facts_schema(document: Any) -> str:
    """The schema a facts record is held to: an older version's own (its record is still judged,
    and a check needing what that version lacks SKIPs naming it), else the current one."""
    from migdoctor.facts import OLD_SCHEMA_VERSIONS

    version = document.get("schema_version") if isinstance(document, dict) else None
    return f"facts-{version}" if version in OLD_SCHEMA_VERSIONS else "facts"


def errors_against(schema: dict[str, Any], document: Any, separator: str = "/") -> list[str]:
    from jsonschema import Draft202012Validator

    validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
    return [
        f"{separator.join(map(str, error.absolute_path)) or '(top)'}: {error.message}"
        for error in sorted(validator.iter_errors(document), key=lambda e: list(map(str, e.absolute_path)))
    ]
