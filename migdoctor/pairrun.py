"""One `migdoctor check` run without the CLI around it: collect both hosts' facts (two rounds,
both hosts at once), decide the intent, judge, and build the report document."""

from __future__ import annotations

import ipaddress
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from migdoctor.actions.migration import TrialOptions
from migdoctor.checkapi import Check
from migdoctor.engine import DiscoveryError, discover, run_checks, select, unknown_name
from migdoctor.judging.pair import (
    Intent,
    MigrationNetwork,
    Pair,
    addresses_in,
    advertised_name,
    interface_addresses,
    is_address,
    link_named,
    remote_endpoint,
    setting,
)
from migdoctor.judging.path import describe_path, intended_links, measured_path, predict_path
from migdoctor.judging.stack import link_rate
from migdoctor.report.document import build_report, finding_record, host_record
from migdoctor.transports import Host, Lookups, Transport, TransportError, fetch_facts, open_transports
from migdoctor.transports.inventory import Inventory


@dataclass
class Request:
    src: Host
    dst: Host
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
    run_id: str = field(default_factory=lambda: f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}")
    progress: Callable[[dict[str, Any]], None] | None = None
    checks: list[Check] | None = None  # chosen by prepare(), before any host is contacted


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


@dataclass
class Collected:
    facts: dict[str, Any] | None
    error: str | None = None


def fetch(host: Transport, lookups: Lookups) -> Collected:
    """A host's facts, by whatever transport; what went wrong reaching it is that host's one line."""
    try:
        return Collected(fetch_facts(host, lookups))
    except TransportError as exc:
        return Collected(None, str(exc))


def network_of(address: str, prefix: int) -> str:
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))


def inferred_network(label: str, dst: dict[str, Any]) -> tuple[str | None, str]:
    """The network of migration_address when it is assigned, else of the fastest addressed link."""
    address = setting(dst, "qemu_conf", "migration_address", "").strip("[]")
    addresses = interface_addresses(dst)
    for link, own, prefix in addresses:
        if own == address:
            return network_of(own, prefix), f"network of {label}'s migration_address {own} ({link})"
    rated = [(link_rate(dst, link), link, network_of(own, prefix)) for link, own, prefix in addresses]
    known = [item for item in rated if item[0]]
    if known:
        rate, link, network = max(known, key=lambda item: item[0] or 0)
        return network, f"{label}'s fastest addressed link {link} ({rate} Mb/s)"
    return None, "undecided: no migration network given or inferable"


def decide_intent(request: Request, dst: dict[str, Any] | None) -> Intent:
    """--migration-network, else the inventory, else inferred from the destination's facts."""
    entry = request.inventory.hosts.get(request.dst.label, {})
    given = entry.get("migration_network") or request.inventory.defaults.get("migration_network")
    if isinstance(given, list):  # one prefix per family, as a TOML list
        given = ",".join(str(item) for item in given)
    if request.migration_network:
        network, decided_by, inferred = request.migration_network, "--migration-network", False
    elif given:
        network, decided_by, inferred = given, f"inventory {request.inventory.path}", False
    elif dst is None:
        network, decided_by, inferred = None, "undecided: destination not reached", True
    else:
        network, decided_by = inferred_network(request.dst.label, dst)
        inferred = True
    try:
        parsed = MigrationNetwork.parse(network) if network else None
    except ValueError as exc:
        raise ValueError(f"{decided_by}: {exc}") from None
    return Intent(
        str(parsed) if parsed else None,
        decided_by,
        inferred,
        min_link_speed_mbps=request.min_link_speed_mbps,
        dst_libvirt_uri=request.dst.peer_uri,
        migrate_tls=bool(request.trial and request.trial.tls),
        migrate_uri=request.trial.migrate_uri if request.trial else None,
        min_rate_mbps=request.min_rate_mbps,
        min_rate_fraction=request.min_rate_fraction,
    )


def source_lookups(dst: dict[str, Any], intent: Intent, dst_uri: str | None) -> Lookups:
    """What the source must look up: the advertised name, the URI's host, the destination's
    migration addresses (routes and PTRs)."""
    name, _ = advertised_name(dst)
    names = [] if is_address(name) else [name]
    if dst_uri:
        try:
            host = remote_endpoint(dst_uri)[2]
        except Exception:  # noqa: BLE001 - a local URI has no host to look up
            host = ""
        if host and not is_address(host):
            names.append(host)
    addresses = [a for _, a in addresses_in(dst, intent.network())]
    if is_address(name):
        addresses.append(name)
    return Lookups(
        route_to=tuple(dict.fromkeys(addresses)),
        resolve=tuple(dict.fromkeys(names)),
        reverse=tuple(addresses),
        only=True,
    )


def destination_lookups(src: dict[str, Any], intent: Intent) -> Lookups:
    addresses = tuple(a for _, a in addresses_in(src, intent.network()))
    return Lookups(route_to=addresses, reverse=addresses, only=True)


def merge_lookups(facts: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    merged = dict(facts)
    merged["route_lookups"] = extra.get("route_lookups")
    merged["resolution"] = {
        **facts["resolution"],
        **{k: extra["resolution"][k] for k in ("lookups", "reverse_lookups")},
    }
    merged["missing"] = facts["missing"] + [gap for gap in extra["missing"] if gap not in facts["missing"]]
    return merged


def warm_up() -> None:
    """Import what the report needs while the hosts answer: the main thread only waits."""
    import jsonschema  # noqa: F401


def collect_pair(
    request: Request,
) -> tuple[Collected, Collected, Intent, dict[str, Any] | None, dict[str, Any] | None]:
    """Round one: both hosts' facts at once, and the port probe beside them. Round two: each
    host's look-ups aimed at what the other advertises, started as soon as the other answered."""
    from migdoctor.actions.peer import run_peer_connection
    from migdoctor.actions.probe import run_probe

    threading.Thread(target=warm_up, daemon=True).start()
    with open_transports([request.src, request.dst]) as (src_host, dst_host), ThreadPoolExecutor(6) as pool:
        src_job = pool.submit(fetch, src_host, Lookups())
        dst = pool.submit(fetch, dst_host, Lookups()).result()
        intent = decide_intent(request, dst.facts)
        if dst.facts is None:
            return src_job.result(), dst, intent, None, None
        # After the first round: both far sides are up, and the probe's halves run there too.
        probe = pool.submit(run_probe, src_host, dst_host, dst.facts) if request.probe else None
        uri = request.dst.peer_uri
        peer = pool.submit(run_peer_connection, src_host, uri) if request.probe and uri else None
        path_mtu = pool.submit(path_mtu_of, src_host, dst_host, dst.facts, intent) if request.probe else None
        src_extra = pool.submit(fetch, src_host, source_lookups(dst.facts, intent, request.dst.peer_uri))
        src = src_job.result()
        if src.facts is None:
            return src, dst, intent, None, None
        dst_extra = pool.submit(fetch, dst_host, destination_lookups(src.facts, intent))
        for base, extra in ((src, src_extra.result()), (dst, dst_extra.result())):
            if extra.facts is None:
                base.error = extra.error
            elif base.facts is not None:
                base.facts = merge_lookups(base.facts, extra.facts)
        probed = probe.result() if probe else None
        if peer and src.facts is not None:
            src.facts["peer_connection"] = peer.result()
        if probed is not None and path_mtu is not None:  # judged by link.path-mtu beside the port probe
            probed["path_mtu"] = path_mtu.result()
        trial = trial_of(request, src_host, dst_host, src.facts, dst.facts) if request.trial else None
        return src, dst, intent, probed, trial


def path_mtu_of(src: Transport, dst: Transport, dst_facts: dict[str, Any], intent: Intent) -> dict[str, Any]:
    """The path MTU probe from the source to the destination's (first) migration address."""
    from migdoctor.actions.pmtu import run_path_mtu

    on_network = addresses_in(dst_facts, intent.network())
    if not on_network:
        return {"skipped": f"{dst.label} has no address on the migration network {intent.network()}"}
    link, address = on_network[0]
    return run_path_mtu(src, dst, dst_facts, address, (link_named(dst_facts, link) or {}).get("mtu"))


def trial_of(
    request: Request, src: Transport, dst: Transport, src_facts: dict[str, Any], dst_facts: dict[str, Any]
) -> dict[str, Any]:
    """The test migration, after the probe (their byte counters must not mix). Its timeout
    defaults to three times the canary's RAM over the slowest addressed link of either host."""
    from migdoctor.actions.migration import default_timeout, run_trial

    options = request.trial
    assert options is not None
    if not options.timeout_s:
        rates = [
            rate
            for facts in (src_facts, dst_facts)
            for link, _, _ in interface_addresses(facts)
            if (rate := link_rate(facts, link))
        ]
        options = replace(options, timeout_s=default_timeout(options.memory_mib, min(rates, default=None)))
    return run_trial(src, dst, options, request.run_id, request.progress)


def untried_relocation(label: str, facts: dict[str, Any]) -> list[str]:
    """A Xen destination without a running xend: its relocation is judged from the config alone,
    since neither the probe (QEMU's ports) nor anything else tried a migration through it."""
    config = facts.get("config") or {}
    xend_config = config.get("xend_config") or {}
    if "xen" not in facts["identity"]["hypervisor"]["kinds"] or not xend_config.get("present"):
        return []
    if any(daemon["name"] == "xend" for daemon in config.get("daemons") or []):
        return []
    return [f"{label}: Xen relocation itself not tried: no xend runs there; xen.* judge {xend_config['path']} only"]


def judge(
    request: Request,
    src: Collected,
    dst: Collected,
    intent: Intent,
    started: float,
    started_at: datetime,
    probe: dict[str, Any] | None = None,
    trial: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Run the selected checks over the pair; the report document is assembled in report/."""
    if request.checks is None:
        prepare(request)
    checks = request.checks or []
    not_checked = [c.error for c in (src, dst) if c.error]
    findings: list[dict[str, Any]] = []
    path = intended = measured = None
    if src.facts is not None and dst.facts is not None:
        pair = Pair(request.src.label, request.dst.label, src.facts, dst.facts, intent, probe, trial)
        findings = [finding_record(f) for f in run_checks(checks, pair, set(request.ignore))]
        path = predict_path(pair)
        path["text"] = describe_path(pair, path)
        intended, measured = intended_links(pair), measured_path(pair)
        for label, facts in ((request.src.label, src.facts), (request.dst.label, dst.facts)):
            not_checked += [f"{label}: {gap['fact']} not collected: {gap['reason']}" for gap in facts["missing"]]
        not_checked += untried_relocation(request.dst.label, dst.facts)
    else:
        not_checked.append(f"no check ran: {len(checks)} checks need facts from both hosts")
    return build_report(
        run_id=request.run_id,
        started=started,
        started_at=started_at,
        hosts={
            "source": host_record(request.src.label, request.src.transport, request.src.target, src.facts, src.error),
            "destination": host_record(
                request.dst.label, request.dst.transport, request.dst.target, dst.facts, dst.error
            ),
        },
        intent=intent,
        path=path,
        intended_links=intended,
        measured_path=measured,
        findings=findings,
        not_checked=not_checked,
        trial=trial,
        facts={"source": src.facts, "destination": dst.facts} if request.include_facts else None,
    )
