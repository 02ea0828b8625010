"""The pair under judgement: both hosts' facts, their labels, what the admin intends (the
migration network) and what the test migration is asked."""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from migdoctor.judging.facts import address_of

Prefix = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class MigrationNetwork:
    """The migration network: one prefix, or two for a dual-stack network (one per family). An
    address is on it when the prefix of its own family holds it."""

    prefixes: tuple[Prefix, ...]

    @classmethod
    def parse(cls, text: str) -> MigrationNetwork:
        """`198.51.100.0/24`, `2001:db8:100::/64`, or both, separated by a comma."""
        prefixes: list[Prefix] = []
        for part in filter(None, (item.strip() for item in text.split(","))):
            try:
                prefix = ipaddress.ip_network(part, strict=False)
            except ValueError:
                raise ValueError(f"migration network {part!r} is not an IPv4 or IPv6 prefix (CIDR)") from None
            if any(other.version == prefix.version for other in prefixes):
                raise ValueError(f"migration network {text!r}: at most one prefix per address family")
            prefixes.append(prefix)
        if not prefixes:
            raise ValueError(f"migration network {text!r} names no prefix")
        return cls(tuple(prefixes))

    def __contains__(self, address: object) -> bool:
        try:
            ip = address_of(address)
        except (ValueError, TypeError):
            return False
        return any(ip.version == prefix.version and ip in prefix for prefix in self.prefixes)

    def of_family(self, version: int) -> Prefix | None:
        return next((prefix for prefix in self.prefixes if prefix.version == version), None)

    def __str__(self) -> str:
        return ", ".join(str(prefix) for prefix in self.prefixes)


@dataclass(frozen=True)
class Intent:
    """The migration network and how it was decided (given, or inferred and from what)."""

    migration_network: MigrationNetwork | None
    decided_by: str  # "--migration-network", "inventory", "inferred from ...", "undecided"
    inferred: bool
    min_link_speed_mbps: int | None = None
    dst_libvirt_uri: str | None = None


@dataclass(frozen=True)
class TrialTerms:
    """What the test migration is asked, the same for every pair of a run: how its stream runs and
    the rate it must reach."""

    tls: bool = False  # --tls
    migrate_uri: str | None = None  # --migrate-uri: where its stream connects
    min_rate_mbps: float | None = None
    min_rate_fraction: float = 0.5  # of the carrying link's effective speed


@dataclass(frozen=True)
class Pair:
    src_label: str
    dst_label: str
    src: dict[str, Any]
    dst: dict[str, Any]
    intent: Intent
    probe: dict[str, Any] | None = None
    trial: dict[str, Any] | None = None
    trial_terms: TrialTerms = TrialTerms()


Answer = TypeVar("Answer")


def per_pair(function: Callable[[Pair], Answer]) -> Callable[[Pair], Answer]:
    """FUNCTION(pair) computed once for the pair being judged (several checks ask the same of it),
    its exception (a Skip) raised again as it was; the answer must not be changed by callers."""
    latest: list[tuple[Any, Any, Exception | None]] = [(None, None, None)]  # pair, answer, exception

    @functools.wraps(function)
    def memoised(pair: Pair) -> Answer:
        entry = latest[0]  # one read: another thread may judge another pair meanwhile
        if entry[0] is not pair:
            try:
                entry = (pair, function(pair), None)
            except Exception as exc:  # noqa: BLE001 - handed on to every caller, as the first got it
                entry = (pair, None, exc)
            latest[0] = entry
        if entry[2] is not None:
            raise entry[2].with_traceback(None)  # each caller its own traceback, not a growing one
        return entry[1]

    return memoised
