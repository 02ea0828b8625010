"""A report of several pairs in compact form. What many pairs share is written once, in the
report's `shared` tables: each distinct finding (without its duration), each intent, each half of a
predicted path (the source's side, the destination's side), each host's links on the migration
network. A pair holds indexes into them, its findings' durations, and what is its own. What a
reader can work out again is left out: a pair's totals (counted from its findings) and its path's
one-line text. Past WORDED_PAIRS pairs, a check that passed keeps its status but not its wording
(PASSED): that wording names both hosts, so it differs in every pair and would make a 200-host
fleet's report hundreds of MiB; what did not pass keeps its wording and all its evidence. Readers see
every pair whole again (expanded_pairs)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from functools import partial
from typing import Any

from migdoctor.report.encoded import Encoded, json_bytes
from migdoctor.report.totals import totals

WORDED_PAIRS = 400  # a report up to this many pairs keeps every pass's wording: a few MiB at most
PASSED = f"passed (in a report of more than {WORDED_PAIRS} pairs a pass keeps its status, not its wording)"
TABLES = ("findings", "intents", "path_sources", "path_destinations", "links")
# A path's members on the source's side; the rest but its text are the destination's.
SOURCE_SIDE = ("source_link", "source_address", "gateway", "source_rate_mbps")
DIGEST_BYTES = 16
# A compact pair as a judging worker hands it over: its own members before and after the references
# (JSON objects), and the digests of the shared values it refers to, by member (report.compact.Pieces).
Split = tuple[bytes, dict[str, bytes], bytes]


class BrokenReference(ValueError):
    """A compact pair that names a shared entry the report lacks; one line."""


class Pieces:
    """A judging worker's shared values: each handed over whole once, then by its digest alone (a
    fleet's pairs repeat a few hundred values a million times)."""

    def __init__(self) -> None:
        self.sent: dict[bytes, bytes] = {}  # each value's digest by its JSON

    def digest(self, value: Any, new: dict[bytes, bytes]) -> bytes:
        """VALUE's digest; its JSON put in NEW the first time it is seen here."""
        data = json_bytes(value)
        digest = self.sent.get(data)
        if digest is None:
            digest = self.sent[data] = hashlib.blake2b(data, digest_size=DIGEST_BYTES).digest()
            new[digest] = data
        return digest


def split_pair(entry: dict[str, Any], worded: bool, pieces: Pieces) -> tuple[Split, dict[bytes, bytes]]:
    """A full pair as its compact pair with the shared values still digests, and the JSON of the
    values PIECES had not handed over yet, by digest: made in the worker that judged the pair (a
    few small objects to hand over), interned in the run (Tables.interned)."""
    new: dict[bytes, bytes] = {}
    path, links, findings = entry["path"], entry.get("intended_links"), entry["findings"]
    refs = {"intent": pieces.digest(entry["intent"], new)}
    if path is not None:
        refs["path"] = pieces.digest({key: path[key] for key in SOURCE_SIDE}, new) + pieces.digest(
            {key: value for key, value in path.items() if key not in (*SOURCE_SIDE, "text")}, new
        )
    if links is not None:
        refs["intended_links"] = b"".join(pieces.digest(links[side], new) for side in ("source", "destination"))
    refs["findings"] = b"".join(pieces.digest(shared_finding(finding, worded), new) for finding in findings)
    own = {
        "durations_us": [round(finding["duration_s"] * 1_000_000) for finding in findings],
        **{key: entry[key] for key in ("not_checked", "unverified", "exit_status")},
        **{key: entry[key] for key in ("migration_trial", "measured_path") if entry[key] is not None},
    }
    return (json_bytes({key: entry[key] for key in ("source", "destination")}), refs, json_bytes(own)), new


def shared_finding(finding: dict[str, Any], worded: bool) -> dict[str, Any]:
    """FINDING as its shared entry: without its duration; a pass without its wording unless WORDED."""
    shared = {key: value for key, value in finding.items() if key != "duration_s"}
    if not worded and finding["status"] == "pass":
        shared.update(summary=PASSED, evidence=[])
    return shared


class Tables:
    """The run's shared tables, built as its pairs come in: each distinct value once, in the order first seen."""

    def __init__(self) -> None:
        self.known: dict[str, dict[bytes, int]] = {name: {} for name in TABLES}
        self.values: dict[bytes, bytes] = {}  # each value's JSON by its digest

    def indexes(self, table: str, digests: bytes) -> list[int]:
        """The index of each value in TABLE, by its digest; added when new."""
        known = self.known[table]
        return [
            known.setdefault(digests[start : start + DIGEST_BYTES], len(known))
            for start in range(0, len(digests), DIGEST_BYTES)
        ]

    def interned(self, split: Split, new: dict[bytes, bytes]) -> bytes:
        """A compact pair from split_pair, its digests made indexes, as JSON bytes."""
        self.values.update(new)
        head, refs, tail = split
        members = [b'"intent":%d' % self.indexes("intents", refs["intent"])[0], b'"path":null']
        if "path" in refs:
            src, dst = refs["path"][:DIGEST_BYTES], refs["path"][DIGEST_BYTES:]
            members[1] = b'"path":{"source":%d,"destination":%d}' % (
                self.indexes("path_sources", src)[0],
                self.indexes("path_destinations", dst)[0],
            )
        if "intended_links" in refs:
            members.append(
                b'"intended_links":{"source":%d,"destination":%d}'
                % tuple(self.indexes("links", refs["intended_links"]))
            )
        members.append(
            b'"findings":[%s]' % b",".join(b"%d" % index for index in self.indexes("findings", refs["findings"]))
        )
        return head[:-1] + b"," + b",".join(members) + b"," + tail[1:]

    def shared(self) -> dict[str, list[Any]]:
        """The report's `shared` member."""
        import orjson

        return {name: [orjson.loads(self.values[digest]) for digest in known] for name, known in self.known.items()}


def expanded(compact: dict[str, Any], shared: dict[str, list[Any]]) -> dict[str, Any]:
    """The full pair a compact pair stands for; BrokenReference if it names an entry SHARED lacks."""
    from migdoctor.judging.path import path_text

    src, dst = compact["source"], compact["destination"]

    def entry(table: str, index: int) -> Any:
        rows = shared[table]
        if not 0 <= index < len(rows):
            raise BrokenReference(f"pair {src} -> {dst}: refers to {table} {index}, but shared.{table} has {len(rows)}")
        return rows[index]

    durations = compact["durations_us"]
    if len(durations) != len(compact["findings"]):
        raise BrokenReference(
            f"pair {src} -> {dst}: {len(compact['findings'])} findings but {len(durations)} durations_us"
        )
    findings = [
        {**entry("findings", index), "duration_s": micros / 1_000_000}
        for index, micros in zip(compact["findings"], durations, strict=True)
    ]
    path = None
    if compact["path"] is not None:
        path = {
            **entry("path_sources", compact["path"]["source"]),
            **entry("path_destinations", compact["path"]["destination"]),
        }
        path["text"] = path_text(src, dst, path)
    pair: dict[str, Any] = {
        "source": src,
        "destination": dst,
        "intent": entry("intents", compact["intent"]),
        "path": path,
        "findings": findings,
        "totals": totals(findings),
        "not_checked": compact["not_checked"],
        "unverified": compact["unverified"],
        "exit_status": compact["exit_status"],
        "migration_trial": compact.get("migration_trial"),
        "measured_path": compact.get("measured_path"),
    }
    links = compact.get("intended_links")
    if links is not None:
        pair["intended_links"] = {side: entry("links", links[side]) for side in ("source", "destination")}
    return pair


def expanded_pairs(report: dict[str, Any]) -> Sequence[dict[str, Any]]:
    """A report's pairs, each whole: a compact report's expanded one at a time as it is read
    (a fleet's 39,800 whole pairs at once would take gigabytes)."""
    pairs, shared = report["pairs"], report.get("shared")
    if shared is None:
        return pairs
    expand = partial(expanded, shared=shared)
    return pairs.mapped(expand) if isinstance(pairs, Encoded) else Encoded(pairs, expand)
