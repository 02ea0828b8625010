"""Reaching the hosts: each host's facts once (round one, at most --forks hosts at once), then
each host's look-ups about all its peers in one call (round two), beside the active steps of
every pair, then the test migrations one after another."""

from __future__ import annotations

import threading
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any

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


@dataclass
class Gathered:
    hosts: dict[str, Collected]  # by label
    intents: dict[str, Intent]  # by destination label
    measured: dict[tuple[str, str], Measured] = field(default_factory=dict)
    notes: dict[tuple[str, str], tuple[str, ...]] = field(default_factory=dict)  # per pair, for not_checked


def fetch(host: Transport, lookups: Lookups) -> Collected:
    """A host's facts, by whatever transport; what went wrong reaching it is that host's one line."""
    try:
        return Collected(fetch_facts(host, lookups))
    except TransportError as exc:
        return Collected(None, str(exc))


def warm_up() -> None:
    """Import what the report needs while the hosts answer: the main thread only waits."""
    import jsonschema  # noqa: F401


def collect(request: Request) -> Gathered:
    """Round one on every host; intents; round two beside the active steps; the trials."""
    threading.Thread(target=warm_up, daemon=True).start()
    with open_transports(request.hosts) as transports, ThreadPoolExecutor(request.forks) as pool:
        by_label = {transport.label: transport for transport in transports}
        first = {label: pool.submit(fetch, transport, Lookups()) for label, transport in by_label.items()}
        hosts = {label: job.result() for label, job in first.items()}
        reached = {label: side.facts for label, side in hosts.items() if side.facts is not None}
        intents, planned = planned_lookups(request, reached)
        plan = plan_lookups(planned)
        second = {label: pool.submit(fetch, by_label[label], lookups) for label, lookups in plan.items()}
        judged = [(src, dst) for src, dst in request.pairs if src in reached and dst in reached]
        measured = active_steps(request, by_label, reached, intents, judged) if request.probe else {}
        for label, job in second.items():
            extra = job.result()
            if extra.facts is None:
                hosts[label].error = extra.error
            else:
                hosts[label].facts = merge_lookups(reached[label], extra.facts)
        if request.trial:  # one after another: two trials at once would share links and counters
            for src, dst in judged:
                src_facts, dst_facts = hosts[src].facts, hosts[dst].facts
                if src_facts is not None and dst_facts is not None:
                    found = measured.setdefault((src, dst), Measured())
                    found.trial = trial_or_refusal(request, by_label[src], by_label[dst], src_facts, dst_facts)
        return Gathered(hosts, intents, measured)


def active_steps(
    request: Request,
    transports: dict[str, Transport],
    facts: dict[str, dict[str, Any]],
    intents: dict[str, Intent],
    pairs: list[tuple[str, str]],
) -> dict[tuple[str, str], Measured]:
    """Each pair's probes, pairs with no host in common at once (at most --forks): the probes
    name links by their byte counters, which a second probe on the same host would mix into.
    A pair starts as soon as both its hosts are free, in the order given."""
    pending, busy, found = list(pairs), set[str](), dict[tuple[str, str], Measured]()
    with ThreadPoolExecutor(max(1, request.forks)) as pool:
        running: dict[Future[Measured], tuple[str, str]] = {}
        while pending or running:
            for pair in list(pending):
                if len(running) < request.forks and busy.isdisjoint(pair):
                    src, dst = pair
                    busy.update(pair)
                    pending.remove(pair)
                    job = pool.submit(probe_pair, request, transports[src], transports[dst], facts[dst], intents[dst])
                    running[job] = pair
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for job in done:
                pair = running.pop(job)
                busy.difference_update(pair)
                found[pair] = job.result()
    return {pair: found[pair] for pair in pairs}


def probe_pair(request: Request, src: Transport, dst: Transport, dst_facts: dict[str, Any], intent: Intent) -> Measured:
    """The port probe, the path MTU probe and the peer connection of one pair, side by side."""
    from migdoctor.actions.peer import run_peer_connection
    from migdoctor.actions.probe import run_probe

    uri = request.host(dst.label).peer_uri
    with ThreadPoolExecutor(3) as pool:
        probe = pool.submit(run_probe, src, dst, dst_facts)
        peer = pool.submit(run_peer_connection, src, uri) if uri else None
        path_mtu = pool.submit(path_mtu_of, src, dst, dst_facts, intent)
        probed = probe.result()
        if probed is not None:  # judged by link.path-mtu beside the port probe
            probed["path_mtu"] = path_mtu.result()
        return Measured(probed, peer.result() if peer else None)


def path_mtu_of(src: Transport, dst: Transport, dst_facts: dict[str, Any], intent: Intent) -> dict[str, Any]:
    """The path MTU probe from the source to the destination's (first) migration address."""
    from migdoctor.actions.pmtu import run_path_mtu

    on_network = addresses_in(dst_facts, intent.network())
    if not on_network:
        return {"skipped": f"{dst.label} has no address on the migration network {intent.network()}"}
    link, address = on_network[0]
    return run_path_mtu(src, dst, dst_facts, address, (link_named(dst_facts, link) or {}).get("mtu"))
