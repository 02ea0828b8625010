"""What a run is asked to do: the hosts (each once), the ordered pairs to judge among them, and
the options; validated whole before any host is contacted."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from migdoctor.actions.migration import TrialOptions
from migdoctor.checkapi import Check
from migdoctor.engine import DiscoveryError, discover, select, unknown_name
from migdoctor.judging.pair import MigrationNetwork
from migdoctor.transports import Host
from migdoctor.transports.inventory_data import Inventory

DEFAULT_FORKS = 10  # hosts reached at once, as Ansible's default
# Every ordered pair of 200 hosts: judged in 15-18 s and 739 MiB here; a report grows with its pairs
# (434 MB at this size), so the next order of magnitude would not fit a control node's memory.
MAX_PAIRS = 39_800


@dataclass(frozen=True)
class SavedFacts:
    """A host judged from its saved facts: no transport, nothing is contacted. The libvirt URIs
    are its inventory entry's, for the intent (what a source's libvirtd would open)."""

    label: str
    path: Path
    libvirt_uri: str | None = None
    peer_libvirt_uri: str | None = None

    @property
    def peer_uri(self) -> str | None:
        return self.peer_libvirt_uri or self.libvirt_uri

    @property
    def spec(self) -> str:
        return f"file:{self.path}"


Source = Host | SavedFacts  # where a host's facts come from


@dataclass
class Request:
    hosts: list[Source]  # each host once, in the order given
    pairs: list[tuple[str, str]]  # ordered (source, destination) labels
    inventory: Inventory
    migration_network: str | None = None
    min_link_speed_mbps: int | None = None
    only: list[str] | None = None  # None: every check; an empty list selects none, which is refused
    ignore: list[str] = field(default_factory=list)
    reasons: dict[str, str | None] = field(default_factory=dict)  # --ignore ID=REASON, by id or area
    run_by: dict[str, Any] | None = None  # who ran it, where, how (run.context.run_by)
    checks_dir: str | None = None
    include_facts: bool = False
    probe: bool = True
    trial: TrialOptions | None = None  # --test-migration
    guests: tuple[str, ...] | None = None  # the sources' guests to judge: () every running one, None none
    window_s: float | None = None  # --window: the maintenance window the guests' migrations must fit in
    parallel: int = 1  # --parallel: guests migrating at once, sharing the bandwidth
    min_rate_mbps: float | None = None
    min_rate_fraction: float = 0.5
    forks: int = DEFAULT_FORKS
    run_id: str = field(default_factory=lambda: f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}")
    progress: Callable[[dict[str, Any]], None] | None = None
    checks: list[Check] | None = None  # chosen by prepare(), before any host is contacted
    dropped: list[str] = field(default_factory=list)  # the pairs of one host with itself, a host's second name

    @classmethod
    def pair(cls, src: Source, dst: Source, inventory: Inventory, **options: Any) -> Request:
        """The run of one pair, `check SRC DST`."""
        return cls([src, dst], [(src.label, dst.label)], inventory, **options)

    def host(self, label: str) -> Source:
        return next(host for host in self.hosts if host.label == label)

    def reached(self) -> list[Host]:
        """The hosts to contact; a run of saved facts has none."""
        return [host for host in self.hosts if isinstance(host, Host)]


def evacuation(src: str, destinations: list[str]) -> list[tuple[str, str]]:
    """`check SRC DST1 DST2 ...`: one source emptied to several destinations."""
    return [(src, dst) for dst in dict.fromkeys(destinations)]  # SRC among them: dropped by prepare()


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


@dataclass(frozen=True)
class Sameness:
    """How two hosts of a run are known to be one: KEY(host) is equal for both (None: not known),
    and WHY(first, second) says so."""

    key: Callable[[Source], Hashable | None]
    why: Callable[[Source, Source], str]


def reached_as(host: Source) -> Hashable | None:
    """What picks the machine HOST is reached on, so two names of one host are told before either
    is contacted: the transport, its target without the ssh user (root@kvm1 and kvm1 are one
    machine), the port, ssh config and arguments (a jump host may pick another machine). Saved
    facts are told apart once read (run.saved.same_record)."""
    if isinstance(host, SavedFacts):
        return None
    target = host.target.rpartition("@")[2].lower() if host.transport == "ssh" and host.target else host.target
    return host.transport, target, host.port, host.ssh_config, host.ssh_args


SAME_TARGET = Sameness(
    reached_as, lambda first, second: f"both are reached as {' and '.join(dict.fromkeys((first.spec, second.spec)))}"
)


def one_host_once(request: Request, same: Sameness) -> None:
    """A host is judged neither against itself (it could PASS) nor twice under two names: the pairs
    of one host with itself are taken out, then every pair of a host's second name (two inventory
    entries for one machine: a round of port probes could make it send two at once, mixing the
    byte counters that name its link), each with its line in request.dropped, and the hosts left in
    no pair. ValueError naming the first self pair when no pair is left."""
    keys = {host.label: same.key(host) for host in request.hosts}
    kept, lines = [], []
    for src, dst in request.pairs:
        if src != dst and (keys[src] is None or keys[src] != keys[dst]):
            kept.append((src, dst))
            continue
        why = f"{same.why(request.host(src), request.host(dst))}; " if src != dst else ""
        lines.append(f"{src} -> {dst}: {why}a host does not migrate to itself")
    if not kept:
        raise ValueError(f"{lines[0]}; no pair is left to judge")
    request.dropped += [f"{line}; that pair is not judged" for line in lines]
    paired = {label for pair in kept for label in pair}
    first: dict[Hashable, Source] = {}
    again: dict[str, Source] = {}
    for host in (host for host in request.hosts if host.label in paired):
        key = keys[host.label]
        if key is not None and (named := first.setdefault(key, host)) is not host:
            again[host.label] = named
    request.dropped += [
        f"{label}: the same host as {named.label} ({same.why(named, request.host(label))}); "
        f"its pairs are judged once, as {named.label}'s"
        for label, named in again.items()
    ]
    request.pairs = [(src, dst) for src, dst in kept if src not in again and dst not in again]
    request.hosts = [host for host in request.hosts if host.label in paired and host.label not in again]


def prepare(request: Request) -> None:
    """Validate first, act later: the checks (drop-ins loaded and held to the contract), --only,
    --ignore, --migration-network and the pairs (none of one host with itself, each host under one
    name) are settled before any host is contacted, so a typo never follows a probe or a test
    migration. Raises DiscoveryError or ValueError, one line each."""
    found = discover(request.checks_dir)
    request.checks = select(found, request.only)
    unknown = unknown_name(found, request.ignore)
    if unknown is not None:
        raise DiscoveryError(f"--ignore {unknown}: no check has that id or area (see `migdoctor checks`)")
    if request.migration_network:
        try:
            MigrationNetwork.parse(request.migration_network)
        except ValueError as exc:
            raise ValueError(f"--migration-network: {exc}") from None
    one_host_once(request, SAME_TARGET)
