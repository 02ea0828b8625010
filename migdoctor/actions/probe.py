"""The port probe: migdoctor listens on the destination the way QEMU would for an incoming
migration (migration_address, first free port of the range), the source connects to the
advertised name like QEMU (getaddrinfo flags and order) and sends a sample; byte counters on both hosts
name the links the bytes crossed, and the listener's rate once the stream is steady is the
migration network's bandwidth (`bandwidth_mbps`). At the same time the source connects to the range's last port,
which the destination holds too: a firewall open for only the start of the range fails the probe.
The halves that run on the hosts are migdoctor/farside/probe.py."""

from __future__ import annotations

from typing import Any

from migdoctor.farside.probe import SERVE_TIMEOUT_S
from migdoctor.judging.carrier import busiest_link
from migdoctor.judging.facts import advertised_name, config_values, port_range
from migdoctor.transports import Transport, TransportError


def incoming_endpoint(dst_facts: dict[str, Any]) -> tuple[str, str, int, int]:
    """What the destination offers an incoming migration: (advertised name, bind address, first
    port, last port), from its qemu.conf and hostname. An unset migration_address is an empty
    bind address: the far side then listens on "::" where the host has IPv6, else 0.0.0.0."""
    name, _ = advertised_name(dst_facts)
    bind = str(config_values(dst_facts, "qemu_conf").get("migration_address", "")).strip("[]")
    return (name, bind, *port_range(dst_facts))


def run_probe(src: Transport, dst: Transport, dst_facts: dict[str, Any], measure: bool = False) -> dict[str, Any]:
    """Both halves, each on its host's far side; the destination's facts say where to listen. The
    sample is 4 MiB; MEASURE sends for the far side's PROBE_SECONDS, long enough for the steady
    bandwidth a prediction needs (a pair check without guests does not wait for it)."""
    name, bind, first, last = incoming_endpoint(dst_facts)
    result: dict[str, Any] = {
        "name": name,
        "port": None,
        "error": None,
        "last_port": None,  # the range's last port, tried beside the first
        "last_error": None,
        "last_untried": None,  # why the last port was not tried (in use on the destination)
        "bytes": 0,
        "rate_mbps": None,
        # the migration network's bandwidth: the listener's median rate once the stream is steady
        "bandwidth_mbps": None,
        "bandwidth_bytes": 0,
        "bandwidth_s": None,
        "source_link": None,
        "destination_link": None,
    }
    try:
        with dst.stream("probe-serve", bind=bind, first=first, last=last) as server:
            ready = server.next(SERVE_TIMEOUT_S) or {"error": "no answer"}
            if "port" not in ready:
                result["error"] = f"{dst.label}: probe listener did not start: {ready['error']}"
                return result
            result.update(port=ready["port"], last_port=ready.get("last_port"), last_untried=ready.get("last_untried"))
            sender: dict[str, Any] = src.call(
                "probe-send", name=name, port=ready["port"], last_port=result["last_port"], measure=measure
            )
            result["last_error"] = sender.get("last_error")
            if sender.get("error"):
                result["error"] = sender["error"]
                return result
            received = server.next(SERVE_TIMEOUT_S) or {"error": "no result from the listener"}
        if received.get("error"):
            result["error"] = f"{dst.label}: {received['error']}"
            return result
        result.update(
            bytes=received["bytes"],
            address=sender["address"],
            local_address=sender["local_address"],
            rate_mbps=round(sender["bytes"] * 8 / sender["seconds"] / 1e6, 1) if sender["seconds"] > 0 else None,
            bandwidth_mbps=received["steady_mbps"],
            bandwidth_bytes=received["steady_bytes"],
            bandwidth_s=received["steady_s"],
            source_link=busiest_link(sender["counters_before"], sender["counters_after"], "tx_bytes")[0],
            destination_link=busiest_link(received["counters_before"], received["counters_after"], "rx_bytes")[0],
        )
    except TransportError as exc:
        result["error"] = str(exc)
    except (ValueError, KeyError, TypeError, AttributeError) as exc:  # a far side that is not migdoctor's agent
        result["error"] = (
            f"{src.label}/{dst.label}: the probe's answer is not what migdoctor sends: {type(exc).__name__}: {exc}"
        )
    return result
