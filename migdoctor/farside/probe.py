"""The port probe's two halves as they run on the hosts: a listener where QEMU would listen for an
incoming migration, and a sender connecting the way QEMU does (getaddrinfo order)."""

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
    """The first free port of the range, as QEMU's incoming migration picks it."""
    family = socket.AF_INET6 if ":" in bind else socket.AF_INET
    for port in range(max(first, 1), min(last, 65535) + 1):  # never a loop bounded by a value from qemu.conf
        listener = socket.socket(family, socket.SOCK_STREAM)
        try:
            listener.bind((bind, port))
        except OSError:
            listener.close()
            continue
        listener.listen(1)
        return listener
    raise OSError(f"no free port in {first}-{last} on {bind}")


def serve(cancelled: threading.Event, bind: str, first: int, last: int) -> Iterator[dict[str, Any]]:
    """Destination side: listen, say on which port, take one connection, count its bytes. Ends
    early when the control node cancels, so nothing outlives the run."""
    try:
        listener = open_listener(bind, first, last)
    except OSError as exc:
        yield {"error": f"cannot listen on {bind} ports {first}-{last}: {exc}"}
        return
    with listener:
        yield {"bind": bind, "port": listener.getsockname()[1]}
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
        while sent < size:
            sent += connection.send(CHUNK[: min(len(CHUNK), size - sent)])
        connection.shutdown(socket.SHUT_WR)
        connection.recv(1)  # wait for the far side to close: all bytes have arrived
        seconds = time.monotonic() - started
    return {
        "bytes": sent,
        "seconds": seconds,
        "address": address,
        "local_address": local,
        "counters_before": before,
        "counters_after": link_counters(),
    }
