"""Watching a migration someone else started (virsh, a cluster manager): both hosts' link
counters streamed several times a second, and the source's libvirt job statistics, until the
job ends. Nothing is changed on either host."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from migdoctor.facts.counters import admitted_counters
from migdoctor.judging.carrier import busiest_link
from migdoctor.transports import Transport, TransportError

INTERVAL_S = 0.25


class NothingToWatch(Exception):
    """No migration job to watch on the source; the watch ends cleanly."""


class CounterStream:
    """`link-counters-follow` running on one host's far side; the newest sample is kept."""

    def __init__(self, host: Transport, interval: float) -> None:
        self.host = host
        self.first: dict[str, Any] | None = None
        self.latest: tuple[float, dict[str, Any]] | None = None
        self.previous: tuple[float, dict[str, Any]] | None = None
        self.samples = host.stream("link-counters-follow", interval=interval)
        threading.Thread(target=self.read, daemon=True).start()

    def read(self) -> None:
        with contextlib.suppress(TransportError):  # the far side ended: the summary says what was seen
            for answer in self.samples:
                sample = admitted_counters(answer)
                if not sample:  # not a counters record: the host said something else
                    continue
                self.first = self.first or sample
                self.previous, self.latest = self.latest, (time.monotonic(), sample)

    def rates(self, key: str) -> dict[str, float]:
        """Bytes per second per link between the last two samples."""
        if not self.previous or not self.latest:
            return {}
        (t0, before), (t1, after) = self.previous, self.latest
        return {link: (after[link][key] - before.get(link, {}).get(key, 0)) / max(t1 - t0, 1e-6) for link in after}

    def carrier(self, key: str) -> tuple[str | None, int]:
        """The link whose KEY counter moved most since the first sample, and by how much."""
        return busiest_link(self.first or {}, self.latest[1] if self.latest else {}, key)

    def close(self) -> None:
        self.samples.close()


def find_job(conn: Any, domain: str | None) -> Any:
    """The named domain, or the first active domain with a job running (a migration)."""
    import libvirt

    if domain:
        try:
            return conn.lookupByName(domain)
        except libvirt.libvirtError:
            raise NothingToWatch(f"no domain {domain!r} on the source") from None
    for candidate in conn.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_ACTIVE):
        if candidate.jobInfo()[0] != libvirt.VIR_DOMAIN_JOB_NONE:
            return candidate
    raise NothingToWatch("no migration job running on the source")


def job_running(dom: Any) -> dict[str, Any] | None:
    import libvirt

    try:
        stats = dom.jobStats()
    except libvirt.libvirtError:
        return None  # the domain left the source: the migration is over
    return stats if stats.get("type", 0) != libvirt.VIR_DOMAIN_JOB_NONE else None


@contextmanager
def streams(src: Transport, dst: Transport, interval: float) -> Iterator[tuple[CounterStream, CounterStream]]:
    pair = (CounterStream(src, interval), CounterStream(dst, interval))
    try:
        yield pair
    finally:
        for stream in pair:
            stream.close()


def watch(
    src: Transport,
    dst: Transport,
    conn: Any,
    domain: str | None,
    interval: float = INTERVAL_S,
    show: Callable[[dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """Sample until the job ends (or Ctrl-C); return the summary."""
    dom = find_job(conn, domain)
    started = time.monotonic()
    last_stats: dict[str, Any] = {}
    interrupted = False
    with streams(src, dst, interval) as (src_stream, dst_stream):
        try:
            while (stats := job_running(dom)) is not None:
                last_stats = stats
                if show:
                    show(
                        {
                            "elapsed_s": time.monotonic() - started,
                            "stats": stats,
                            "src_rates": src_stream.rates("tx_bytes"),
                            "dst_rates": dst_stream.rates("rx_bytes"),
                        }
                    )
                time.sleep(interval)
        except KeyboardInterrupt:
            interrupted = True
        time.sleep(interval * 2)  # a last sample after the job ended
        src_link, sent = src_stream.carrier("tx_bytes")
        dst_link, received = dst_stream.carrier("rx_bytes")
    wall = time.monotonic() - started
    return {
        "domain": dom.name(),
        "interrupted": interrupted,
        "wall_s": round(wall, 3),
        "source_link": src_link,
        "source_tx_bytes": sent,
        "destination_link": dst_link,
        "destination_rx_bytes": received,
        "rate_mbps": round(sent * 8 / wall / 1e6, 1) if wall > 0 else None,
        "last_job_stats": {k: v for k, v in last_stats.items() if isinstance(v, int | float)},
    }
