"""A fleet's pairs held as JSON bytes (report.compact's form), each validated against the schema's
pair in the worker that judged it, decoded only while a writer looks at it: 39,800 pairs as
Python objects would take gigabytes, as bytes a few megabytes."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from functools import cache
from typing import Any, overload

import orjson


class Encoded(Sequence[dict[str, Any]]):
    """Pair entries as JSON bytes, in order; reading one decodes it (then MAP, when given). Entries
    already decoded (a saved report's, read whole) are taken as they are, then MAP."""

    def __init__(
        self,
        items: list[Any],
        mapping: Callable[[Any], Any] | None = None,
        summaries: list[dict[str, Any]] | None = None,
    ) -> None:
        self.items = items
        self.mapping = mapping
        self.summaries = summaries  # each pair's report.document.pair_summary, made where it was judged

    def __len__(self) -> int:
        return len(self.items)

    @overload
    def __getitem__(self, index: int) -> dict[str, Any]: ...
    @overload
    def __getitem__(self, index: slice) -> list[dict[str, Any]]: ...
    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice):
            return [self.decoded(item) for item in self.items[index]]
        return self.decoded(self.items[index])

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return (self.decoded(item) for item in self.items)

    def decoded(self, item: Any) -> dict[str, Any]:
        value = orjson.loads(item) if isinstance(item, bytes) else item
        return self.mapping(value) if self.mapping else value

    def kept(self, wanted: Callable[[dict[str, Any]], bool]) -> Encoded:
        """Only the pairs whose summary is WANTED, chosen without decoding any pair (every pair
        when there are no summaries)."""
        if self.summaries is None:
            return self
        return Encoded(
            [item for item, summary in zip(self.items, self.summaries, strict=True) if wanted(summary)], self.mapping
        )

    def mapped(self, mapping: Callable[[Any], Any]) -> Encoded:
        """The same pairs, each also passed through MAPPING as it is read (printable_data, say)."""
        first = self.mapping
        return Encoded(self.items, mapping if first is None else lambda value: mapping(first(value)), self.summaries)


def json_bytes(value: Any, indent: bool = False) -> bytes:
    """VALUE as JSON (UTF-8) by orjson; by the standard library when orjson cannot (an integer
    beyond 64 bits, which a host's config file may hold), slower but whole."""
    try:
        return orjson.dumps(value, default=str, option=orjson.OPT_INDENT_2 if indent else None)
    except orjson.JSONEncodeError:
        return json.dumps(value, default=str, indent=2 if indent else None, ensure_ascii=False).encode()


class InvalidPair(ValueError):
    """A pair entry that does not match the report schema's pair; one line."""


@cache
def pair_validator() -> Any:
    import jsonschema_rs

    from migdoctor.schemas import load_schema

    schema = load_schema("report")
    return jsonschema_rs.validator_for({"$ref": "#/$defs/pair", "$defs": schema["$defs"]}, validate_formats=True)


def valid_pair(entry: dict[str, Any]) -> dict[str, Any]:
    """ENTRY, once it matches the schema's pair (else InvalidPair naming the pair)."""
    if not pair_validator().is_valid(entry):
        error = next(iter(pair_validator().iter_errors(entry)))
        where = "/".join(map(str, error.instance_path)) or "(top)"
        raise InvalidPair(f"pair {entry.get('source')} -> {entry.get('destination')}: {where}: {error.message}")
    return entry
