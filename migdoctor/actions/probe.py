"""The port probe: migdoctor listens on the destination the way QEMU would for an incoming
migration (migration_address, first free port of the range), the source connects to the
advertised name like QEMU (getaddrinfo order) and sends a sample; byte counters on both hosts
name the links the bytes crossed."""

from __future__ import annotations

import json
import os
import selectors
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from migdoctor.judging.pair import advertised_name, config_values, port_range
from migdoctor.transports import Host, command_argv

PROBE_BYTES = 4 * 1024 * 1024
SERVE_TIMEOUT_S = 15.0
CHUNK = os.urandom(64 * 1024)  # random so no compression on the path flatters the rate


def emit(record: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(record) + "\n")
    sys.stdout.flush()


def open_listener(bind: str, first: int, last: int) -> socket.socket:
    """The first free port of the range, as QEMU's incoming migration picks it. Unset
    migration_address means "::" (both families) where the host has IPv6, else 0.0.0.0, as
    qemu.conf documents it."""
    if not bind:
        try:
            return open_listener("::", first, last)
        except OSError:
            return open_listener("0.0.0.0", first, last)
    family = socket.AF_INET6 if ":" in bind else socket.AF_INET
    for port in range(first, last + 1):
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


def incoming_endpoint() -> tuple[str, str, int, int]:
    """What this host offers an incoming migration, read from its own qemu.conf and hostname:
    (advertised name, bind address, first port, last port)."""
    from migdoctor.facts.config import read_config
    from migdoctor.facts.gaps import Gaps
    from migdoctor.facts.identity import advertised_hostname

    facts = {
        "config": {"qemu_conf": read_config("qemu_conf", Gaps())},
        "identity": {"fqdn": advertised_hostname(socket.gethostname()), "hypervisor": {}},
    }
    name, _ = advertised_name(facts)
    bind = str(config_values(facts, "qemu_conf").get("migration_address", "")).strip("[]")
    return (name, bind, *port_range(facts))


def listen_as_qemu() -> tuple[str, socket.socket | None]:
    """(advertised name, a listener where QEMU would take an incoming migration); no listener
    when none can be opened, the reason then printed as the command's JSON answer."""
    name, bind, first, last = incoming_endpoint()
    try:
        return name, open_listener(bind, first, last)
    except OSError as exc:
        emit({"error": f"cannot listen on {bind or 'the wildcard address'} ports {first}-{last}: {exc}"})
        return name, None


def serve(timeout: float = SERVE_TIMEOUT_S) -> None:
    """Destination side: listen where QEMU would, print the name and port to connect to, take one
    connection, count its bytes, print the result. Ends early when stdin closes (the
    orchestrator gave up), so nothing outlives the run."""
    from migdoctor.facts.counters import link_counters

    name, listener = listen_as_qemu()
    if listener is None:
        return
    with listener:
        emit({"name": name, "bind": listener.getsockname()[0], "port": listener.getsockname()[1]})
        before = link_counters()
        selector = selectors.DefaultSelector()
        selector.register(listener, selectors.EVENT_READ)
        selector.register(sys.stdin, selectors.EVENT_READ)
        events = selector.select(timeout)
        if not any(key.fileobj is listener for key, _ in events):
            emit({"error": "no connection arrived"})
            return
        connection, peer = listener.accept()
        received = 0
        with connection:
            while chunk := connection.recv(1 << 16):
                received += len(chunk)
        emit({"bytes": received, "peer": peer[0], "counters_before": before, "counters_after": link_counters()})


def connect_as_qemu(name: str, port: int, timeout: float) -> socket.socket:
    """QEMU's inet_connect_saddr(): getaddrinfo with its flags, then each answer in order until
    one accepts (a refused first answer falls through to the next, of either family)."""
    from migdoctor.facts.resolution import QEMU_AI_FLAGS

    error: OSError = OSError(f"{name} has no address")
    for family, kind, proto, _, address in socket.getaddrinfo(
        name, port, socket.AF_UNSPEC, socket.SOCK_STREAM, 0, QEMU_AI_FLAGS
    ):
        connection = socket.socket(family, kind, proto)
        connection.settimeout(timeout)
        try:
            connection.connect(address)
        except OSError as exc:
            connection.close()
            error = exc
            continue
        return connection
    raise error


def send(name: str, port: int, size: int = PROBE_BYTES, timeout: float = SERVE_TIMEOUT_S) -> None:
    """Source side: connect to NAME:PORT as QEMU would and send SIZE random bytes."""
    from migdoctor.facts.counters import link_counters

    before = link_counters()
    try:
        connection = connect_as_qemu(name, port, timeout)
    except OSError as exc:
        emit({"error": f"{type(exc).__name__}: {exc.strerror or exc}"})
        return
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
            emit({"error": f"connected to {address}, sent {sent} of {size} bytes, then: {exc.strerror or exc}"})
            return
        seconds = time.monotonic() - started
    emit(
        {
            "bytes": sent,
            "seconds": seconds,
            "address": address,
            "local_address": local,
            "counters_before": before,
            "counters_after": link_counters(),
        }
    )


def busiest_link(before: dict[str, Any], after: dict[str, Any], key: str) -> str | None:
    deltas = {name: after[name][key] - before.get(name, {}).get(key, 0) for name in after if name != "lo"}
    return max(deltas, key=lambda name: deltas[name]) if deltas else None


def read_line(process: subprocess.Popen[str], timeout: float) -> dict[str, Any] | None:
    """One JSON line from PROCESS within TIMEOUT, or None."""
    holder: list[str] = []
    reader = threading.Thread(
        target=lambda: holder.append(process.stdout.readline() if process.stdout else ""), daemon=True
    )
    reader.start()
    reader.join(timeout)
    return json.loads(holder[0]) if holder and holder[0].strip() else None


@contextmanager
def far_listener(host: Host, command: str) -> Iterator[subprocess.Popen[str]]:
    """A listening machine command on HOST (probe-serve, pmtu-serve), ended by closing its stdin."""
    server = subprocess.Popen(
        command_argv(host, [command]),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        yield server
    finally:
        if server.stdin:
            server.stdin.close()
        try:
            server.wait(timeout=5)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def run_probe(src: Host, dst: Host) -> dict[str, Any]:
    """Both halves, each over its host's transport; the destination decides where to listen."""
    result: dict[str, Any] = {
        "name": None,
        "port": None,
        "error": None,
        "bytes": 0,
        "rate_mbps": None,
        "source_link": None,
        "destination_link": None,
    }
    with far_listener(dst, "probe-serve") as server:
        ready = read_line(server, SERVE_TIMEOUT_S)
        if not ready or "port" not in ready:
            result["error"] = f"{dst.label}: probe listener did not start: {(ready or {}).get('error', 'no answer')}"
            return result
        result.update(name=ready["name"], port=ready["port"])
        sent = subprocess.run(
            command_argv(src, ["probe-send", "--name", ready["name"], "--port", str(ready["port"])]),
            capture_output=True,
            text=True,
            timeout=SERVE_TIMEOUT_S * 2,
            stdin=subprocess.DEVNULL,
        )
        sender: dict[str, Any] = (
            json.loads(sent.stdout.strip().splitlines()[-1])
            if sent.stdout.strip()
            else {"error": sent.stderr.strip()[-200:]}
        )
        if sender.get("error"):
            result["error"] = sender["error"]
            return result
        received: dict[str, Any] = read_line(server, SERVE_TIMEOUT_S) or {"error": "no result from the listener"}
        if received.get("error"):
            result["error"] = f"{dst.label}: {received['error']}"
            return result
        result.update(
            bytes=received["bytes"],
            address=sender["address"],
            local_address=sender["local_address"],
            rate_mbps=round(sender["bytes"] * 8 / sender["seconds"] / 1e6, 1) if sender["seconds"] > 0 else None,
            source_link=busiest_link(sender["counters_before"], sender["counters_after"], "tx_bytes"),
            destination_link=busiest_link(received["counters_before"], received["counters_after"], "rx_bytes"),
        )
        return result
