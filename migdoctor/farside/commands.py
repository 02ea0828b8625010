"""Every command the far side answers, by name. A command is a function of JSON-ready keyword
arguments returning JSON-ready data; a streaming one is a generator that also gets a `cancelled`
event and yields items until it is done or cancelled."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, NamedTuple


class FarCommand(NamedTuple):
    """Not a dataclass: dataclasses imports inspect, 10 ms before the far side's first answer."""

    function: Callable[..., Any]
    streams: bool


COMMANDS: dict[str, FarCommand] = {}
WRITTEN: set[str] = set()  # files a request wrote and no request removed yet
MARKERS: set[str] = set()  # storage markers placed and not removed yet


def command(name: str, streams: bool = False) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def register(function: Callable[..., Any]) -> Callable[..., Any]:
        COMMANDS[name] = FarCommand(function, streams)
        return function

    return register


@command("facts")
def facts(
    route_to: Sequence[str] = (), resolve: Sequence[str] = (), reverse: Sequence[str] = (), lookups_only: bool = False
) -> dict[str, Any]:
    from migdoctor.facts import collect

    return collect(route_to, resolve, reverse, lookups_only)


@command("link-counters")
def link_counters() -> dict[str, Any]:
    from migdoctor.facts.counters import link_counters

    return link_counters()


@command("link-counters-follow", streams=True)
def follow_counters(cancelled: threading.Event, interval: float) -> Iterator[dict[str, Any]]:
    """A sample per INTERVAL until cancelled: the watcher on the control node has finished."""
    from migdoctor.facts.counters import link_counters

    while not cancelled.is_set():
        yield link_counters()
        cancelled.wait(interval)


@command("probe-serve", streams=True)
def probe_serve(cancelled: threading.Event, bind: str, first: int, last: int) -> Iterator[dict[str, Any]]:
    from migdoctor.farside.probe import serve

    return serve(cancelled, bind, first, last)


@command("probe-send")
def probe_send(name: str, port: int, last_port: int | None = None, measure: bool = False) -> dict[str, Any]:
    from migdoctor.farside.probe import PROBE_SECONDS, send

    return send(name, port, last_port, seconds=PROBE_SECONDS if measure else 0.0)


@command("pmtu-probe")
def pmtu_probe(address: str, peer_mtu: int | None = None, port: int | None = None) -> dict[str, Any]:
    from migdoctor.farside.pmtu import probe

    return probe(address, peer_mtu, port)


@command("pmtu-serve", streams=True)
def pmtu_serve(cancelled: threading.Event, bind: str, first: int, last: int) -> Iterator[dict[str, Any]]:
    from migdoctor.farside.pmtu import serve

    return serve(cancelled, bind, first, last)


@command("peer-connect")
def peer_connect(uri: str) -> dict[str, Any]:
    """The source opens the destination's URI as its libvirtd's account."""
    from migdoctor.farside.peer import connect

    return connect(uri)


@command("payload-write")
def payload_write(path: str, mib: int) -> dict[str, Any]:
    """The canary's random RAM payload; removed again when this far side ends, whatever happens."""
    from migdoctor.farside.canary import write_payload

    WRITTEN.add(path)
    return {"path": str(write_payload(Path(path), mib))}


@command("payload-remove")
def payload_remove(path: str) -> dict[str, Any]:
    """The payload and a half-written one (its writer may have been killed). It stays in WRITTEN:
    a writer still running now is outlived by the removal when the far side ends."""
    for leftover in (path, path + ".tmp"):
        Path(leftover).unlink(missing_ok=True)
    return {"removed": path}


@command("canary-kill")
def canary_kill(name: str) -> dict[str, Any]:
    from migdoctor.farside.canary import kill_processes

    return {"killed": kill_processes(name)}


@command("guest-ram")
def guest_ram(guests: Sequence[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The resident part of each running guest's RAM (read-only: /proc)."""
    from migdoctor.farside.guestram import guest_ram

    return guest_ram(list(guests))


@command("marker-place")
def marker_place(paths: list[str]) -> list[dict[str, Any]]:
    """Storage markers beside PATHS; removed again when this far side ends, whatever happens."""
    from migdoctor.farside.marker import place

    placed = place(paths)
    MARKERS.update(item["marker"] for item in placed if item["marker"])
    return placed


@command("marker-look")
def marker_look(markers: list[dict[str, Any]]) -> list[dict[str, Any]]:
    from migdoctor.farside.marker import look

    return look(markers)


@command("marker-remove")
def marker_remove(markers: list[str]) -> dict[str, Any]:
    from migdoctor.farside.marker import remove

    MARKERS.difference_update(markers)
    return {"left": remove(markers)}


def remove_leftovers() -> None:
    for path in list(WRITTEN):
        payload_remove(path)
    if MARKERS:
        marker_remove(list(MARKERS))
