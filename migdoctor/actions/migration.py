"""The timed test migration: a canary guest live-migrated from the source to the destination the
way production migrations go (peer-to-peer over the inventory's libvirt URIs, no URI override
unless asked), measured by libvirt's job statistics and both hosts' link byte counters, and
brought back. Whatever happens, the canary and its payload files are removed on both hosts."""

from __future__ import annotations

import contextlib
import signal
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache, partial
from pathlib import Path
from typing import Any

from migdoctor.actions import canary
from migdoctor.facts.waiting import NO_ANSWER, attempt, within
from migdoctor.farside.canary import MIB
from migdoctor.judging.carrier import busiest_link
from migdoctor.transports import Transport, TransportError

POLL_S = 0.1
SERIES_POINTS = 300
PAYLOAD_DIR = "/var/tmp"
# A silent host's libvirt connection is closed after ~8 s. One step on a host (a libvirt call, a
# command over the transport) gets 10 s, an aborted migration 15 s to end, the whole clean-up 30 s
# with both hosts at once: a host gone mid-trial costs --timeout + about a minute, never more.
KEEPALIVE_INTERVAL_S, KEEPALIVE_COUNT = 2, 3
STEP_BUDGET_S = 10.0
ABORT_WAIT_S = 15.0
CLEANUP_BUDGET_S = 30.0
JOB_KEYS = ("time_elapsed", "downtime", "data_processed", "data_total", "data_remaining", "memory_bps")


class TrialRefused(Exception):
    """The trial cannot start: said before anything is changed on either host."""


@dataclass(frozen=True)
class TrialOptions:
    memory_mib: int = 256
    migrate_uri: str | None = None
    one_way: bool = False
    timeout_s: float = 0.0  # 0: sized to the canary and the slowest link
    domain: str | None = None  # an existing domain, used only when the admin confirmed it
    tls: bool = False  # the stream over TLS (VIR_MIGRATE_TLS), with QEMU's migration certificates

    @property
    def payload_mib(self) -> int:
        """Most of the RAM above the payload address, so the stream is mostly real data."""
        return max(0, (self.memory_mib * MIB - canary.PAYLOAD_ADDR) // MIB - 16)


def default_timeout(memory_mib: int, slowest_mbps: int | None) -> float:
    """Three times what the whole RAM takes on the slowest link, plus start-up time."""
    rate = slowest_mbps or 100
    return round(memory_mib * MIB * 8 / (rate * 1e6) * 3 + 30, 1)


def write_payload(host: Transport, payload: Path, mib: int) -> None:
    """The canary's payload on HOST; a host where it cannot be written refuses the trial."""
    try:
        host.call("payload-write", path=str(payload), mib=mib)
    except TransportError as exc:
        raise TrialRefused(f"{exc}: the test migration needs {mib} MiB writable in {payload.parent} there") from None


@cache
def run_event_loop() -> None:
    """libvirt's keepalive needs an event loop: libvirt's own, run by one daemon thread."""
    import libvirt

    def loop() -> None:
        while True:
            libvirt.virEventRunDefaultImpl()

    libvirt.virEventRegisterDefaultImpl()
    threading.Thread(target=loop, daemon=True, name="libvirt-events").start()


def open_libvirt(host: Transport) -> Any:
    """A connection with keepalive on: when the host goes silent (off the network, daemon hung)
    libvirt closes it after about KEEPALIVE_INTERVAL_S * (KEEPALIVE_COUNT + 1) seconds and every
    call on it fails, instead of waiting for TCP to give up."""
    import libvirt

    if not host.libvirt_uri:
        raise TrialRefused(f"{host.label}: no libvirt URI (set libvirt_uri in the inventory)")
    libvirt.registerErrorHandler(lambda _ctx, _err: None, None)
    run_event_loop()
    try:
        conn = libvirt.open(host.libvirt_uri)
    except libvirt.libvirtError as exc:
        raise TrialRefused(f"{host.label}: cannot connect to {host.libvirt_uri}: {exc.get_error_message()}") from None
    with contextlib.suppress(libvirt.libvirtError):  # a driver without keepalive still works
        conn.setKeepAlive(KEEPALIVE_INTERVAL_S, KEEPALIVE_COUNT)
    return conn


def preflight(src_conn: Any, dst_conn: Any, src: Transport, dst: Transport, options: TrialOptions) -> str:
    """Refuse before changing anything: the destination lacks memory, or a hypervisor cannot
    run the canary. Returns the virt type both will use."""
    import libvirt

    kind = canary.virt_type(src_conn)
    for host, conn in ((src, src_conn), (dst, dst_conn)):
        try:
            conn.getDomainCapabilities(None, "x86_64", "pc", kind)
        except libvirt.libvirtError as exc:
            raise TrialRefused(
                f"{host.label}: cannot run a {kind} x86_64 'pc' canary: {exc.get_error_message()}"
            ) from None
    free = dst_conn.getFreeMemory()
    needed = options.memory_mib * MIB * 1.25
    if free < needed:
        raise TrialRefused(
            f"{dst.label}: {free // MIB} MiB free, the {options.memory_mib} MiB canary needs {int(needed // MIB)}"
        )
    return kind


def job_sample(dom: Any, started: float) -> dict[str, Any] | None:
    import libvirt

    try:
        stats = dom.jobStats()
    except libvirt.libvirtError:
        return None
    if not stats or stats.get("type", 0) == 0:
        return None
    sample = {key: stats[key] for key in JOB_KEYS if key in stats}
    sample["wall_s"] = round(time.monotonic() - started, 3)
    return sample


def counters_of(host: Transport) -> dict[str, Any]:
    """HOST's link byte counters, or none when it does not answer in time (gone mid-trial) or
    answers with something else: the leg then names no link on that side. A far side that
    ended is raised: the run cannot go on there."""
    from migdoctor.facts.counters import admitted_counters

    def ask() -> Any:
        try:
            return host.call("link-counters")
        except TransportError as exc:  # the far side ended: raised below, the run cannot go on there
            return exc

    counters, _ = attempt(STEP_BUDGET_S, ask)
    if isinstance(counters, TransportError):
        raise counters
    return admitted_counters(counters)


@contextmanager
def interrupt_on_sigterm() -> Iterator[None]:
    """SIGTERM ends the trial like Ctrl-C: through the clean-up."""

    def handler(_signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def migrate_leg(
    dom: Any,
    peer: Transport,
    from_host: Transport,
    to_host: Transport,
    options: TrialOptions,
    progress: Callable[[dict[str, Any]], None] | None,
) -> dict[str, Any]:
    """One live migration, peer-to-peer to PEER's libvirt URI, watched until it ends."""
    import libvirt

    params = {libvirt.VIR_MIGRATE_PARAM_URI: options.migrate_uri} if options.migrate_uri else {}
    flags = libvirt.VIR_MIGRATE_LIVE | libvirt.VIR_MIGRATE_PEER2PEER | (libvirt.VIR_MIGRATE_TLS if options.tls else 0)
    before = {
        from_host.label: counters_of(from_host),
        to_host.label: counters_of(to_host),
    }
    outcome: dict[str, Any] = {}

    def migrate() -> None:
        try:
            dom.migrateToURI3(peer.peer_uri, params, flags)
        except libvirt.libvirtError as exc:  # after our abort, keep why we aborted
            outcome.setdefault("error", exc.get_error_message())

    started = time.monotonic()
    worker = threading.Thread(target=migrate, daemon=True)
    worker.start()
    samples: list[dict[str, Any]] = []
    try:
        while worker.is_alive():
            worker.join(POLL_S)
            sample = job_sample(dom, started)
            if sample:
                samples.append(sample)
                if progress:
                    progress(live_view(sample, from_host, to_host, before[from_host.label]))
            if time.monotonic() - started > options.timeout_s:
                outcome["error"] = f"timed out after {options.timeout_s:.0f} s (--timeout)"
                abort(dom)
                worker.join(ABORT_WAIT_S)
                break
    except KeyboardInterrupt:
        abort(dom)
        worker.join(ABORT_WAIT_S)
        raise
    wall = time.monotonic() - started
    after = {
        from_host.label: counters_of(from_host),
        to_host.label: counters_of(to_host),
    }
    src_link, sent = busiest_link(before[from_host.label], after[from_host.label], "tx_bytes")
    dst_link, received = busiest_link(before[to_host.label], after[to_host.label], "rx_bytes")
    return {
        "from": from_host.label,
        "to": to_host.label,
        "ok": "error" not in outcome,
        "error": outcome.get("error"),
        "wall_s": round(wall, 3),
        "samples": len(samples),
        "last_sample": samples[-1] if samples else None,
        "source_link": src_link,
        "source_tx_bytes": sent,
        "destination_link": dst_link,
        "destination_rx_bytes": received,
        "rate_mbps": stream_rate_mbps(samples),
        "throughput": throughput_series(samples),
        "wall_rate_mbps": round(sent * 8 / wall / 1e6, 1) if wall > 0 else None,
    }


def stream_rate_mbps(samples: list[dict[str, Any]]) -> float | None:
    """The rate while RAM was streaming: bytes and time read at the same polls, so the set-up
    before the first byte (connecting, starting the destination's QEMU) does not dilute it."""
    moving = [sample for sample in samples if sample.get("data_processed")]
    if len(moving) < 2 or moving[-1]["wall_s"] <= moving[0]["wall_s"]:
        return None
    data = moving[-1]["data_processed"] - moving[0]["data_processed"]
    return round(data * 8 / (moving[-1]["wall_s"] - moving[0]["wall_s"]) / 1e6, 1)


def throughput_series(samples: list[dict[str, Any]], most: int = SERIES_POINTS) -> list[dict[str, Any]]:
    """The stream's rate over time for the report's chart: bytes libvirt had sent at each poll and
    the rate since the previous point, thinned evenly so an hour-long migration stays a small record."""
    moving = [sample for sample in samples if "data_processed" in sample]
    step = -(-len(moving) // most) if moving else 1
    kept = moving[::step]
    if moving and kept[-1] is not moving[-1]:
        kept.append(moving[-1])
    series, previous = [], None
    for sample in kept:
        rate = None
        if previous is not None and sample["wall_s"] > previous["wall_s"]:
            sent = sample["data_processed"] - previous["data_processed"]
            rate = round(sent * 8 / (sample["wall_s"] - previous["wall_s"]) / 1e6, 1)
        series.append({"wall_s": sample["wall_s"], "data_processed": sample["data_processed"], "mbps": rate})
        previous = sample
    return series


def live_view(
    sample: dict[str, Any], from_host: Transport, to_host: Transport, before: dict[str, Any]
) -> dict[str, Any]:
    """A sample for the progress bar, with the link carrying the stream so far (one counter read)."""
    link, _ = busiest_link(before, counters_of(from_host), "tx_bytes")
    return {**sample, "leg": f"{from_host.label} -> {to_host.label}", "link": f"{from_host.label} {link}"}


def abort(dom: Any) -> None:
    import libvirt

    with contextlib.suppress(libvirt.libvirtError):
        dom.abortJob()


def completed_stats(conn: Any, name: str) -> dict[str, Any] | None:
    """libvirt's statistics of the finished job, as the receiving side keeps them."""
    import libvirt

    try:
        stats = conn.lookupByName(name).jobStats(libvirt.VIR_DOMAIN_JOB_STATS_COMPLETED)
    except libvirt.libvirtError:
        return None
    return {key: stats[key] for key in JOB_KEYS if key in stats} or None


def run_trial(
    src: Transport,
    dst: Transport,
    options: TrialOptions,
    run_id: str | None = None,
    progress: Callable[[dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """The migration_trial fact. Raises TrialRefused before touching anything when it cannot run."""
    src_conn = open_libvirt(src)
    with contextlib.closing(src_conn), contextlib.closing(open_libvirt(dst)) as dst_conn:
        kind = preflight(src_conn, dst_conn, src, dst, options)
        name = options.domain or f"{canary.NAME}-{run_id or uuid.uuid4().hex[:8]}"
        payload = None if options.domain else Path(PAYLOAD_DIR) / f"{name}.payload"
        trial: dict[str, Any] = {
            "domain": name,
            "canary": options.domain is None,
            "virt_type": kind,
            "memory_mib": options.memory_mib,
            "payload_mib": 0 if options.domain else options.payload_mib,
            "migrate_uri": options.migrate_uri,
            "tls": options.tls,
            "timeout_s": options.timeout_s,
            "legs": [],
            "completed_stats": None,
            "cleanup": [],
            "interrupted": False,
        }
        lost: TransportError | None = None
        try:
            with interrupt_on_sigterm():
                migrate_there_and_back(trial, src_conn, dst_conn, src, dst, options, payload, progress)
        except KeyboardInterrupt:
            trial["interrupted"] = True
        except TrialRefused:
            raise  # could not run: after the clean-up below, one line and exit status 2
        except TransportError as exc:
            lost = exc
            trial["legs"].append({"from": src.label, "to": dst.label, "ok": False, "error": str(exc)})
        except Exception as exc:  # noqa: BLE001 - a failed trial is a finding; clean-up still runs
            trial["legs"].append(
                {"from": src.label, "to": dst.label, "ok": False, "error": f"{type(exc).__name__}: {exc}"}
            )
        finally:
            if payload is not None:
                with signals_held():
                    trial["cleanup"] = clean_up(name, payload, [(src, src_conn), (dst, dst_conn)])
        if lost is not None and not incomplete(trial["cleanup"]):
            raise lost  # a far side that ended, all cleaned: one line and exit status 2
        return trial  # what is left on a host gone mid-run is only in the report: it must be written


def incomplete(cleanup: list[str]) -> list[str]:
    """The clean-up notes that name something left on a host."""
    return [note for note in cleanup if "clean-up incomplete" in note]


def migrate_there_and_back(
    trial: dict[str, Any],
    src_conn: Any,
    dst_conn: Any,
    src: Transport,
    dst: Transport,
    options: TrialOptions,
    payload: Path | None,
    progress: Callable[[dict[str, Any]], None] | None,
) -> None:
    name = trial["domain"]
    if payload is not None:
        for host in (dst, src):  # the destination first: the host most likely to refuse
            write_payload(host, payload, options.payload_mib)
        dom = canary.start(src_conn, payload, name, options.memory_mib)
    else:
        dom = src_conn.lookupByName(name)
    leg = migrate_leg(dom, dst, src, dst, options, progress)
    trial["legs"].append(leg)
    if leg["ok"]:
        trial["completed_stats"] = completed_stats(dst_conn, name)
        if not options.one_way:
            back = dst_conn.lookupByName(name)
            trial["legs"].append(migrate_leg(back, src, dst, src, options, progress))


@contextmanager
def signals_held() -> Iterator[None]:
    """A second Ctrl-C or SIGTERM must not cut the clean-up short."""
    previous = {signum: signal.signal(signum, signal.SIG_IGN) for signum in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def call_afresh(host: Transport, name: str, /, **args: Any) -> Any:
    """A clean-up call; a far side that died mid-run is started again for it."""
    try:
        return host.call(name, **args)
    except TransportError:
        host.close()
        return host.call(name, **args)


def clean_up(name: str, payload: Path, hosts: list[tuple[Transport, Any]]) -> list[str]:
    """Remove the canary and its payload on every host, the hosts at once, each step and the whole
    bounded in time (a host gone from the network costs a budget, not minutes). What could not be
    done is said, host by host, never raised."""
    notes = within(
        CLEANUP_BUDGET_S,
        [partial(clean_up_host, name, payload, host, conn) for host, conn in hosts],
        lambda index: [
            f"{hosts[index][0].label}: clean-up incomplete, remove canary {name} and payload {payload} by hand: "
            f"not finished within {CLEANUP_BUDGET_S:g} s"
        ],
    )
    return [note for host_notes in notes for note in host_notes]


def clean_up_host(name: str, payload: Path, host: Transport, conn: Any) -> list[str]:
    """Through libvirt; where libvirt cannot answer (daemon killed, connection dead: anything but
    "no such domain") by ending the canary's qemu through the transport."""
    notes, left = [], []
    silent = None  # the transport's "no answer": the host is gone, asking again only costs time
    _, lost = attempt(STEP_BUDGET_S, partial(canary.remove, conn, name), libvirt_reason)
    if lost:
        killed, failed = attempt(STEP_BUDGET_S, partial(call_afresh, host, "canary-kill", name=name))
        if failed:
            left.append(f"canary {name} (libvirt: {lost}; ending its qemu: {failed})")
            silent = failed if failed.startswith(NO_ANSWER) else None
        else:
            notes.append(f"{host.label}: libvirt unreachable ({lost}); ended qemu {killed['killed']}")
    _, failed = (
        (None, f"not tried: {silent}")
        if silent
        else attempt(STEP_BUDGET_S, partial(call_afresh, host, "payload-remove", path=str(payload)))
    )
    if failed:
        left.append(f"payload {payload} ({failed})")
    if left:
        notes.append(f"{host.label}: clean-up incomplete, remove by hand: {'; '.join(left)}")
    return notes


def libvirt_reason(exc: Exception) -> str:
    get_message = getattr(exc, "get_error_message", None)
    return str(get_message() if get_message else exc)
