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


@dataclass
class Request:
    hosts: list[Host]  # each host once, in the order given
    pairs: list[tuple[str, str]]  # ordered (source, destination) labels
    inventory: Inventory
    migration_network: str | None = None
    min_link_speed_mbps: int | None = None
    only: list[str] | None = None  # None: every check; an empty list selects none, which is refused
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
    dropped: list[str] = field(default_factory=list)  # the pairs of one host with itself, a host's second name

    @classmethod
    def pair(cls, src: Host, dst: Host, inventory: Inventory, **options: Any) -> Request:
        """The run of one pair, `check SRC DST`."""
        return cls([src, dst], [(src.label, dst.label)], inventory, **options)

    def host(self, label: str) -> Host:
        return next(host for host in self.hosts if host.label == label)


def evacuation(src: str, destinations: list[str]) -> list[tuple[str, str]]:
    """`check SRC DST1 DST2 ...`: one source emptied to several destinations."""
    return [(src, dst) for dst in dict.fromkeys(destinations)]  # SRC among them: dropped by prepare()


def each_other(labels: list[str]) -> list[tuple[str, str]]:
    """`--all`, `--to-each-other`: every ordered pair of distinct hosts."""
    return list(itertools.permutations(dict.fromkeys(labels), 2))


def reached_as(host: Host) -> tuple[Any, ...]:
    """What picks the machine HOST is reached on, so two names of one host are told before either
    is contacted: the transport, its target without the ssh user (root@kvm1 and kvm1 are one
    machine), the port, ssh config and arguments (a jump host may pick another machine)."""
    target = host.target.rpartition("@")[2].lower() if host.transport == "ssh" and host.target else host.target
    return host.transport, target, host.port, host.ssh_config, host.ssh_args


def same_target(request: Request) -> Callable[[str, str], str | None]:
    """Why two labels of REQUEST name one host before any is contacted ("" for the same label,
    else the ways both are reached), or None."""
    reached = {host.label: reached_as(host) for host in request.hosts}

    def why(src: str, dst: str) -> str | None:
        if src == dst:
            return ""
        if reached[src] != reached[dst] or request.host(src).transport == "file":  # saved: run.saved.same_record
            return None
        return both_reached_as(request.host(src), request.host(dst))

    return why


def both_reached_as(first: Host, second: Host) -> str:
    return f"both are reached as {' and '.join(dict.fromkeys((first.spec, second.spec)))}"


def drop_self_pairs(request: Request, why_same: Callable[[str, str], str | None]) -> None:
    """Take out the pairs whose two hosts are one (WHY_SAME says why, else None), each with its line
    in request.dropped, and the hosts left in no pair: a host judged against itself could PASS.
    ValueError naming the first when no pair is left."""
    kept, lines = [], []
    for src, dst in request.pairs:
        why = why_same(src, dst)
        if why is None:
            kept.append((src, dst))
        else:
            lines.append(f"{src} -> {dst}: {why}{'; ' if why else ''}a host does not migrate to itself")
    if not kept:
        raise ValueError(f"{lines[0]}; no pair is left to judge")
    request.dropped += [f"{line}; that pair is not judged" for line in lines]
    request.pairs = kept
    paired = {label for pair in kept for label in pair}
    request.hosts = [host for host in request.hosts if host.label in paired]


def drop_second_names(request: Request) -> None:
    """A host named twice among other hosts (two inventory entries for one machine) is judged once,
    under its first name: its pairs under the second would judge it twice, and a round of port
    probes could make it send two at once, mixing the byte counters that name its link."""
    first: dict[tuple[Any, ...], Host] = {}
    again: dict[str, Host] = {}
    for host in request.hosts:
        if host.transport != "file" and (named := first.setdefault(reached_as(host), host)) is not host:
            again[host.label] = named
    request.dropped += [
        f"{label}: the same host as {named.label} ({both_reached_as(named, request.host(label))}); "
        f"its pairs are judged once, as {named.label}'s"
        for label, named in again.items()
    ]
    request.pairs = [pair for pair in request.pairs if not again.keys() & set(pair)]
    request.hosts = [host for host in request.hosts if host.label not in again]


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
    drop_self_pairs(request, same_target(request))
    drop_second_names(request)
