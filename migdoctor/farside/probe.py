"""The port probe's two halves as they run on the hosts: a listener where QEMU would listen for an
incoming migration, and a sender connecting the way QEMU does (getaddrinfo flags and order).

The listener also holds the last port of the range, and the sender connects to it while it sends
its sample to the first: a firewall that admits only the start of the range (a later, concurrent
migration's port refused or dropped) is caught even where its ruleset cannot be read."""

from __future__ import annotations

import bisect
import contextlib
import itertools
import os
import selectors
import socket
import statistics
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from migdoctor.facts.counters import link_counters

PROBE_BYTES = 4 * 1024 * 1024
PROBE_SECONDS = 0.6
WARMUP_S = 0.1
SLICE_S = 0.05
SERVE_TIMEOUT_S = 15.0
# A port that answers at all answers within TCP's first SYN retransmits (1 s, then 3 s later):
# a dropped last port then costs 5 s, not the whole time-out, beside the sample to the first.
LAST_PORT_TIMEOUT_S = 5.0
CHUNK = os.urandom(64 * 1024)  # random so no compression on the path flatters the rate
POLL_S = 0.1


def open_listener(bind: str, first: int, last: int) -> socket.socket:
    """The first free port of the range, as QEMU's incoming migration picks it. An unset
    migration_address (BIND empty) means "::" (both families) where the host has IPv6, else
    0.0.0.0, as libvirt chooses it."""
    if not bind:
        try:
            return open_listener("::", first, last)
        except OSError:
            return open_listener("0.0.0.0", first, last)
    family = socket.AF_INET6 if ":" in bind else socket.AF_INET
    for port in range(max(first, 1), min(last, 65535) + 1):  # never a loop bounded by a value from qemu.conf
        listener = socket.socket(family, socket.SOCK_STREAM)
        if bind == "::":
            listener.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        try:
            listener.bind((bind, port))
        except OSError:
            listener.close()
            continue
        listener.listen(1)
        return listener
    raise OSError(f"no free port in {first}-{last} on {bind}")


def listen_as_qemu(bind: str, first: int, last: int) -> tuple[socket.socket | None, dict[str, Any]]:
    """(a listener where QEMU would take an incoming migration, what to tell the control node):
    its address and port, or why none could be opened."""
    try:
        listener = open_listener(bind, first, last)
    except OSError as exc:
        return None, {"error": f"cannot listen on {bind or 'the wildcard address'} ports {first}-{last}: {exc}"}
    return listener, {"bind": listener.getsockname()[0], "port": listener.getsockname()[1]}


def hold_last_port(listener: socket.socket, last: int) -> tuple[socket.socket | None, dict[str, Any]]:
    """A second listener on LAST, beside the first one's address, for the sender's bare connection
    (the kernel completes it; nothing is read): (it, what to tell the control node). None when the
    first listener already has LAST, or when LAST is taken: then it is not tried, and why."""
    address = listener.getsockname()[0]
    if listener.getsockname()[1] >= last:
        return None, {"last_port": None}
    extra = socket.socket(listener.family, socket.SOCK_STREAM)
    if listener.family == socket.AF_INET6:  # "::" takes IPv4 too, as the first listener does
        v6only = listener.getsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY)
        extra.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, v6only)
    try:
        extra.bind((address, last))
    except OSError as exc:
        extra.close()
        return None, {"last_port": None, "last_untried": f"port {last} is in use: {exc.strerror or exc}"}
    extra.listen(1)
    return extra, {"last_port": last}


def serve(cancelled: threading.Event, bind: str, first: int, last: int) -> Iterator[dict[str, Any]]:
    """Destination side: listen (on the first free port and the last one), say on which ports,
    take one connection, count its bytes. Ends early when the control node cancels, so nothing
    outlives the run."""
    listener, ready = listen_as_qemu(bind, first, last)
    if listener is None:
        yield ready
        return
    last_listener, last_ready = hold_last_port(listener, last)
    yield ready | last_ready
    with listener, last_listener or contextlib.nullcontext():
        before = link_counters()
        selector = selectors.DefaultSelector()
        selector.register(listener, selectors.EVENT_READ)
        deadline = time.monotonic() + SERVE_TIMEOUT_S
        while not selector.select(POLL_S):
            if cancelled.is_set() or time.monotonic() > deadline:
                yield {"error": "no connection arrived"}
                return
        connection, peer = listener.accept()
        with connection:
            received, steady = receive(connection)
        yield {
            "bytes": received,
            "peer": peer[0],
            "counters_before": before,
            "counters_after": link_counters(),
            **steady,
        }


def receive(connection: socket.socket) -> tuple[int, dict[str, Any]]:
    """Read until the sender closes: (bytes, the steady rate). After the first WARMUP_S from the
    first byte, the rate of each SLICE_S is taken and the median of them kept (`steady_mbps`, over
    `steady_bytes` in `steady_s`): a moment either end spent without the CPU (a busy host) gives
    one slow slice and, once the socket's buffer drains, one fast one, which the median ignores."""
    arrivals: list[tuple[float, int]] = []
    received = 0
    while chunk := connection.recv(1 << 16):
        received += len(chunk)
        arrivals.append((time.monotonic(), received))
    if not arrivals or arrivals[-1][0] - arrivals[0][0] < WARMUP_S + SLICE_S:
        return received, {"steady_mbps": None, "steady_bytes": 0, "steady_s": 0.0}
    start = arrivals[0][0] + WARMUP_S
    times = [t for t, _ in arrivals]
    slices = int((times[-1] - start) // SLICE_S)
    edges = [bytes_by(arrivals, times, start + i * SLICE_S) for i in range(slices + 1)]
    rates = sorted((b - a) * 8 / SLICE_S / 1e6 for a, b in itertools.pairwise(edges))
    steady = {"steady_bytes": round(edges[-1] - edges[0]), "steady_s": round(slices * SLICE_S, 3)}
    return received, {"steady_mbps": round(statistics.median(rates), 1), **steady}


def bytes_by(arrivals: list[tuple[float, int]], times: list[float], when: float) -> float:
    """Bytes received by WHEN, between the reads either side of it (linearly)."""
    i = bisect.bisect_right(times, when)
    if i == 0:
        return 0.0
    if i == len(times):
        return float(arrivals[-1][1])
    (t0, b0), (t1, b1) = arrivals[i - 1], arrivals[i]
    return b0 + (b1 - b0) * (when - t0) / (t1 - t0)


def connect_first(addresses: list[str], port: int, timeout: float) -> socket.socket:
    """A connection to the first of ADDRESSES that accepts, in getaddrinfo's order, as QEMU tries them."""
    error: OSError = OSError("no address")
    for address in addresses:
        try:
            return socket.create_connection((address, port), timeout=timeout)
        except OSError as exc:
            error = exc
    raise error


def connect_error(exc: OSError) -> str:
    return f"{type(exc).__name__}: {exc.strerror or exc}"


def try_port(addresses: list[str], port: int, timeout: float) -> str | None:
    """A bare connection to PORT, closed at once: None when it opened, else why not."""
    try:
        connect_first(addresses, port, timeout).close()
    except OSError as exc:
        return connect_error(exc)
    return None


def send(
    name: str,
    port: int,
    last_port: int | None = None,
    size: int = PROBE_BYTES,
    timeout: float = SERVE_TIMEOUT_S,
    seconds: float = 0.0,
) -> dict[str, Any]:
    """Source side: connect to NAME:PORT as QEMU would and send random bytes for SECONDS, at least
    SIZE; meanwhile open (and close) a connection to LAST_PORT, the range's last port, where the
    listener holds it."""
    from migdoctor.facts.resolution import getaddrinfo_answer

    before = link_counters()
    answer = getaddrinfo_answer(name)  # bounded: a dead nameserver must not hold the probe
    if answer["error"]:
        return {"error": f"gaierror: {answer['error']}", "last_error": None}
    with ThreadPoolExecutor(1) as pool:
        last = pool.submit(try_port, answer["addresses"], last_port, LAST_PORT_TIMEOUT_S) if last_port else None
        sent = send_sample(answer["addresses"], port, size, timeout, seconds)
        sent |= {"counters_before": before, "counters_after": link_counters()}
        return sent | {"last_error": last.result() if last else None}


def send_sample(addresses: list[str], port: int, size: int, timeout: float, seconds: float = 0.0) -> dict[str, Any]:
    """Random bytes over a connection to PORT for SECONDS and at least SIZE, until the far side has
    them all."""
    try:
        connection = connect_first(addresses, port, timeout)
    except OSError as exc:
        return {"error": connect_error(exc)}
    started = time.monotonic()
    address, local = connection.getpeername()[0], connection.getsockname()[0]
    with connection:
        sent = 0
        try:
            while sent < size:
                sent += connection.send(CHUNK[: min(len(CHUNK), size - sent)])
            while time.monotonic() - started < seconds:
                sent += connection.send(CHUNK)
            connection.shutdown(socket.SHUT_WR)
            connection.recv(1)  # wait for the far side to close: all bytes have arrived
        except OSError as exc:  # connected, then stalled: a path that drops large segments does this
            return {"error": f"connected to {address}, sent {sent} of {size} bytes, then: {exc.strerror or exc}"}
        seconds = time.monotonic() - started
    return {"bytes": sent, "seconds": seconds, "address": address, "local_address": local}
