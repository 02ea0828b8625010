"""Reaching the hosts: each host's facts once (round one, at most --forks hosts at once), then
each host's look-ups about all its peers in one call (round two), beside the active steps of
every pair, then the test migrations one after another."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any

from migdoctor.facts.guests import GuestAsk
from migdoctor.judging.facts import addresses_in, link_named
from migdoctor.judging.pair import Intent
from migdoctor.run.lookups import merge_lookups, plan_lookups, planned_lookups
from migdoctor.run.request import Request
from migdoctor.run.trial import trial_or_refusal
from migdoctor.transports import Lookups, Transport, TransportError, fetch_facts, open_transports


@dataclass
class Collected:
    facts: dict[str, Any] | None
    error: str | None = None


@dataclass
class Measured:
    """What the active steps of one pair found."""

    probe: dict[str, Any] | None = None  # the port probe, with the path MTU probe in it
    peer_connection: dict[str, Any] | None = None  # judged as the source's fact
    trial: dict[str, Any] | None = None
    guests: dict[str, Any] | None = None  # by guest name: CPU comparison and storage markers (actions.guests)


@dataclass
class Gathered:
    hosts: dict[str, Collected]  # by label
    intents: dict[str, Intent]  # by destination label
    measured: dict[tuple[str, str], Measured] = field(default_factory=dict)
    notes: dict[tuple[str, str], tuple[str, ...]] = field(default_factory=dict)  # per pair, for not_checked


def fetch(host: Transport, lookups: Lookups, guests: GuestAsk | None = None) -> Collected:
    """A host's facts, by whatever transport; what went wrong reaching it is that host's one line."""
    try:
        return Collected(fetch_facts(host, lookups, guests))
    except TransportError as exc:
        return Collected(None, str(exc))


def warm_up(transports: list[Transport]) -> None:
    """While the hosts answer, import and compile what comes after their answers (libvirt for
    round one's questions, the report's validators, the text writer): the main thread only waits
    then, and would otherwise do it after the last answer. It begins once the far sides of
    TRANSPORTS (the first started) are spawned: before, it would hold the interpreter while they
    are being started."""
    for transport in transports:
        transport.spawned.wait()
    import libvirt  # noqa: F401

    from migdoctor.report.encoded import pair_validator
    from migdoctor.report.text import WRITER  # noqa: F401 - the default output
    from migdoctor.schemas import fast_validator

    pair_validator()
    fast_validator("report")


def collect(request: Request) -> Gathered:
    """Round one on every host, the peer connections beside it; intents; round two beside the
    probes; the trials."""
    with (
        open_transports(request.reached()) as transports,
        ThreadPoolExecutor(request.forks) as pool,
        ThreadPoolExecutor(max(1, request.forks)) as peer_pool,
    ):
        by_label = {transport.label: transport for transport in transports}
        rates_later: list[Callable[[], None]] = []  # the guests' dirty rates, read once the other steps ran
        peers = peer_connections(request, by_label, peer_pool) if request.probe else {}
        first = {
            label: pool.submit(fetch, transport, Lookups(), guest_ask(request, label, rates_later))
            for label, transport in by_label.items()
        }
        threading.Thread(target=warm_up, args=(transports[: request.forks],), daemon=True).start()
        hosts = {label: job.result() for label, job in first.items()}
        reached = {label: side.facts for label, side in hosts.items() if side.facts is not None}
        intents, planned = planned_lookups(request, reached)
        plan = plan_lookups(planned)
        second = {label: pool.submit(fetch, by_label[label], lookups) for label, lookups in plan.items()}
        judged = [(src, dst) for src, dst in request.pairs if src in reached and dst in reached]
        looked_up = guest_steps(request, by_label, reached, judged, pool)
        measured = active_steps(request, by_label, reached, intents, judged, peers) if request.probe else {}
        for pair, lookup in looked_up.items():
            measured.setdefault(pair, Measured()).guests = lookup.result()
        for label, job in second.items():
            extra = job.result()
            if extra.facts is None:
                hosts[label].error = extra.error
            else:
                hosts[label].facts = merge_lookups(reached[label], extra.facts)
        for read_rates in rates_later:  # before any trial: never measured while a guest migrates
            read_rates()
        rates_later.clear()
        if request.trial:  # one after another: two trials at once would share links and counters
            for src, dst in judged:
                src_facts, dst_facts = hosts[src].facts, hosts[dst].facts
                if src_facts is not None and dst_facts is not None:
                    found = measured.setdefault((src, dst), Measured())
                    found.trial = trial_or_refusal(request, by_label[src], by_label[dst], src_facts, dst_facts)
        return Gathered(hosts, intents, measured)


def guest_ask(request: Request, label: str, later: list[Callable[[], None]]) -> GuestAsk | None:
    """What round one asks of LABEL's guests: nothing unless the run asks for guests; then every
    host's `virt`, and a source's running guests (those named, or all), their dirty rates read
    back through LATER."""
    if request.guests is None:
        return None
    return GuestAsk(request.guests, source=any(src == label for src, _ in request.pairs), later=later)


def guest_steps(
    request: Request,
    transports: dict[str, Transport],
    facts: dict[str, dict[str, Any]],
    pairs: list[tuple[str, str]],
    pool: ThreadPoolExecutor,
) -> dict[tuple[str, str], Future[dict[str, Any]]]:
    """Each judged pair's guest look-ups (actions.guests), started beside the probes when the run
    asks for guests: libvirt calls on the destination and a marker file per disk, none of which
    touches the byte counters a probe names links by."""
    if request.guests is None:
        return {}
    from migdoctor.actions.guests import guest_lookups

    return {
        (src, dst): pool.submit(guest_lookups, transports[src], transports[dst], facts[src], facts[dst])
        for src, dst in pairs
    }


def peer_connections(
    request: Request, transports: dict[str, Transport], pool: ThreadPoolExecutor
) -> dict[tuple[str, str], Future[dict[str, Any]]]:
    """Each pair's peer connection, asked ahead of round one: it needs only the source's far side
    (one that cannot start fails both once) and the destination's URI from the inventory, and it
    is an SSH or TLS handshake between the hosts, the slowest of the active steps, so it starts
    on the source before the facts' imports there. A peer connection names no link (its bytes
    are noise beside a probe's stream), so all run at once, at most --forks."""
    from migdoctor.actions.peer import run_peer_connection

    return {
        (src, dst): pool.submit(run_peer_connection, transports[src], uri)
        for src, dst in request.pairs
        if (uri := request.host(dst).peer_uri)
    }


def active_steps(
    request: Request,
    transports: dict[str, Transport],
    facts: dict[str, dict[str, Any]],
    intents: dict[str, Intent],
    pairs: list[tuple[str, str]],
    peers: dict[tuple[str, str], Future[dict[str, Any]]],
) -> dict[tuple[str, str], Measured]:
    """Each judged pair's probes (scheduled_probes) and its peer connection (peer_connections)."""
    probes = scheduled_probes(
        request.forks,
        pairs,
        lambda src, dst: probe_pair(
            transports[src], transports[dst], facts[dst], intents[dst], measure=request.guests is not None
        ),
    )
    return {pair: Measured(probes[pair], peers[pair].result() if pair in peers else None) for pair in pairs}


def scheduled_probes(
    forks: int, pairs: list[tuple[str, str]], probe: Callable[[str, str], dict[str, Any] | None]
) -> dict[tuple[str, str], dict[str, Any] | None]:
    """PROBE of each pair (probe_pair), at most FORKS pairs at once and never two sent from
    one host or two received on one: a probe names the source's link by its sent-byte counters and
    the destination's by its received-byte counters, which a second probe's stream on the same
    counter would mix into. A host may send one probe while it receives another (a -> b, b -> c
    and c -> a at once): what that adds to its other counter is the other stream's
    acknowledgements. A pair starts as soon as its source is free to send and its destination to
    receive, in the order of probe_order."""
    pending, busy, found = probe_order(pairs), set[tuple[str, str]](), dict[tuple[str, str], dict[str, Any] | None]()
    with ThreadPoolExecutor(max(1, forks)) as pool:
        running: dict[Future[dict[str, Any] | None], tuple[str, str]] = {}
        while pending or running:
            for pair in list(pending):
                if len(running) < forks and busy.isdisjoint(counters_used(pair)):
                    busy.update(counters_used(pair))
                    pending.remove(pair)
                    running[pool.submit(probe, *pair)] = pair
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for job in done:
                pair = running.pop(job)
                busy.difference_update(counters_used(pair))
                found[pair] = job.result()
    return found


def probe_order(pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """PAIRS in rounds in which each host sends once and receives once: with the hosts numbered,
    a round is every pair whose destination is the same number of places after its source (every
    ordered pair of N hosts probes in N - 1 rounds, not one pair at a time)."""
    hosts = {label: number for number, label in enumerate(dict.fromkeys(label for pair in pairs for label in pair))}
    return sorted(pairs, key=lambda pair: (hosts[pair[1]] - hosts[pair[0]]) % len(hosts))


def counters_used(pair: tuple[str, str]) -> set[tuple[str, str]]:
    """The byte counters a pair's probe names links by: the source's sent, the destination's received."""
    src, dst = pair
    return {(src, "tx_bytes"), (dst, "rx_bytes")}


def probe_pair(
    src: Transport, dst: Transport, dst_facts: dict[str, Any], intent: Intent, measure: bool = False
) -> dict[str, Any] | None:
    """The port probe and the path MTU probe of one pair, side by side. MEASURE: the port probe
    sends long enough to measure the bandwidth a guest's predicted migration gets (guests asked)."""
    from migdoctor.actions.probe import run_probe

    with ThreadPoolExecutor(2) as pool:
        probe = pool.submit(run_probe, src, dst, dst_facts, measure)
        path_mtu = pool.submit(path_mtu_of, src, dst, dst_facts, intent)
        probed = probe.result()
        if probed is not None:  # judged by link.path-mtu beside the port probe
            probed["path_mtu"] = path_mtu.result()
        return probed


def path_mtu_of(src: Transport, dst: Transport, dst_facts: dict[str, Any], intent: Intent) -> dict[str, Any]:
    """The path MTU probe from the source to the destination's (first) migration address."""
    from migdoctor.actions.pmtu import run_path_mtu

    on_network = addresses_in(dst_facts, intent.migration_network)
    if not on_network:
        return {"skipped": f"{dst.label} has no address on the migration network {intent.migration_network}"}
    link, address = on_network[0]
    return run_path_mtu(src, dst, dst_facts, address, (link_named(dst_facts, link) or {}).get("mtu"))
