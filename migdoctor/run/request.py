"""What a run is asked to do: the hosts (each once), the ordered pairs to judge among them, and
the options; validated whole before any host is contacted."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from migdoctor.actions.migration import TrialOptions
from migdoctor.checkapi import Check
from migdoctor.engine import DiscoveryError, discover, select, unknown_name
from migdoctor.judging.pair import MigrationNetwork
from migdoctor.transports import Host
from migdoctor.transports.inventory import Inventory

DEFAULT_FORKS = 10  # hosts reached at once, as Ansible's default
# Every ordered pair of 200 hosts: judged in 15-18 s and 739 MiB here; a report grows with its pairs
# (434 MB at this size), so the next order of magnitude would not fit a control node's memory.
MAX_PAIRS = 39_800


@dataclass
class Request:
    hosts: list[Host]  # each host once, in the order given
    pairs: list[tuple[str, str]]  # ordered (source, destination) labels
    inventory: Inventory
    migration_network: str | None = None
    min_link_speed_mbps: int | None = None
    only: list[str] = field(default_factory=list)
    ignore: list[str] = field(default_factory=list)
    checks_dir: str | None = None
    include_facts: bool = False
    probe: bool = True
    trial: TrialOptions | None = None  # --test-migration
    min_rate_mbps: float | None = None
    min_rate_fraction: float = 0.5
    forks: int = DEFAULT_FORKS
    run_id: str = field(default_factory=lambda: f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}")
    progress: Callable[[dict[str, Any]], None] | None = None
    checks: list[Check] | None = None  # chosen by prepare(), before any host is contacted

    @classmethod
    def pair(cls, src: Host, dst: Host, inventory: Inventory, **options: Any) -> Request:
        """The run of one pair, `check SRC DST`."""
        return cls([src, dst], [(src.label, dst.label)], inventory, **options)

    def host(self, label: str) -> Host:
        return next(host for host in self.hosts if host.label == label)


def evacuation(src: str, destinations: list[str]) -> list[tuple[str, str]]:
    """`check SRC DST1 DST2 ...`: one source emptied to several destinations."""
    return [(src, dst) for dst in dict.fromkeys(destinations)]  # SRC SRC stays: judged as it always was


def each_other(labels: list[str]) -> list[tuple[str, str]]:
    """`--all`, `--to-each-other`: every ordered pair of distinct hosts; more than MAX_PAIRS is a
    ValueError with the count, before any pair is made."""
    hosts = list(dict.fromkeys(labels))
    count = len(hosts) * (len(hosts) - 1)
    if count > MAX_PAIRS:
        raise ValueError(
            f"{len(hosts):,} hosts make {count:,} ordered pairs, more than the {MAX_PAIRS:,} one run judges "
            "(200 hosts); judge a group at a time (--all --group NAME) or name the hosts (--to-each-other HOST...)"
        )
    return list(itertools.permutations(hosts, 2))


def prepare(request: Request) -> None:
    """Validate first, act later: the checks (drop-ins loaded and held to the contract), --only,
    --ignore and --migration-network are settled before any host is contacted, so a typo never
    follows a probe or a test migration. Raises DiscoveryError or ValueError, one line each."""
    found = discover(request.checks_dir)
    request.checks = select(found, request.only)
    unknown = unknown_name(found, request.ignore)
    if unknown:
        raise DiscoveryError(f"--ignore {unknown}: no check has that id or area (see `migdoctor checks`)")
    if request.migration_network:
        try:
            MigrationNetwork.parse(request.migration_network)
        except ValueError as exc:
            raise ValueError(f"--migration-network: {exc}") from None
