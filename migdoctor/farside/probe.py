"""The port probe's two halves as they run on the hosts: a listener where QEMU would listen for an
incoming migration, and a sender connecting the way QEMU does (getaddrinfo flags and order)."""

from __future__ import annotations

import os
import selectors
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

from migdoctor.facts.counters import link_counters

PROBE_BYTES = 4 * 1024 * 1024
SERVE_TIMEOUT_S = 15.0
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


def serve(cancelled: threading.Event, bind: str, first: int, last: int) -> Iterator[dict[str, Any]]:
    """Destination side: listen, say on which port, take one connection, count its bytes. Ends
    early when the control node cancels, so nothing outlives the run."""
    listener, ready = listen_as_qemu(bind, first, last)
    yield ready
    if listener is None:
        return
    with listener:
        before = link_counters()
        selector = selectors.DefaultSelector()
        selector.register(listener, selectors.EVENT_READ)
        deadline = time.monotonic() + SERVE_TIMEOUT_S
        while not selector.select(POLL_S):
            if cancelled.is_set() or time.monotonic() > deadline:
                yield {"error": "no connection arrived"}
                return
        connection, peer = listener.accept()
        received = 0
        with connection:
            while chunk := connection.recv(1 << 16):
                received += len(chunk)
        yield {"bytes": received, "peer": peer[0], "counters_before": before, "counters_after": link_counters()}


def connect_first(addresses: list[str], port: int, timeout: float) -> socket.socket:
    """A connection to the first of ADDRESSES that accepts, in getaddrinfo's order, as QEMU tries them."""
    error: OSError = OSError("no address")
    for address in addresses:
        try:
            return socket.create_connection((address, port), timeout=timeout)
        except OSError as exc:
            error = exc
    raise error


def send(name: str, port: int, size: int = PROBE_BYTES, timeout: float = SERVE_TIMEOUT_S) -> dict[str, Any]:
    """Source side: connect to NAME:PORT as QEMU would and send SIZE random bytes."""
    from migdoctor.facts.resolution import getaddrinfo_answer

    before = link_counters()
    answer = getaddrinfo_answer(name)  # bounded: a dead nameserver must not hold the probe
    if answer["error"]:
        return {"error": f"gaierror: {answer['error']}"}
    try:
        connection = connect_first(answer["addresses"], port, timeout)
    except OSError as exc:
        return {"error": f"{type(exc).__name__}: {exc.strerror or exc}"}
    started = time.monotonic()
    address, local = connection.getpeername()[0], connection.getsockname()[0]
    with connection:
        sent = 0
        try:
            while sent < size:
                sent += connection.send(CHUNK[: min(len(CHUNK), size - sent)])
            connection.shutdown(socket.SHUT_WR)
            connection.recv(1)  # wait for the far side to close: all bytes have arrived
        except OSError as exc:  # connected, then stalled: a path that drops large segments does this
            return {"error": f"connected to {address}, sent {sent} of {size} bytes, then: {exc.strerror or exc}"}
        seconds = time.monotonic() - started
    return {
        "bytes": sent,
        "seconds": seconds,
        "address": address,
        "local_address": local,
        "counters_before": before,
        "counters_after": link_counters(),
    }
