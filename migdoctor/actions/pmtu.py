"""The path MTU probe's orchestration: the probe on the source's far side, ICMP first, and when ICMP
got no answer or is not allowed, again with a listener on the destination's far side for the TCP
fallback. The halves that run on the hosts are migdoctor/farside/pmtu.py."""

from __future__ import annotations

from typing import Any

from migdoctor.actions.probe import incoming_endpoint
from migdoctor.farside.pmtu import RUN_TIMEOUT_S
from migdoctor.transports import Transport, TransportError


def probe_from(src: Transport, address: str, peer_mtu: int | None, port: int | None) -> dict[str, Any]:
    try:
        return dict(src.call("pmtu-probe", address=address, peer_mtu=peer_mtu, port=port))
    except TransportError as exc:
        return {"address": address, "skipped": f"{src.label}: the path MTU probe gave no answer: {exc}"}


def run_path_mtu(
    src: Transport, dst: Transport, dst_facts: dict[str, Any], address: str, peer_mtu: int | None
) -> dict[str, Any]:
    """The probe from SRC to ADDRESS (DST's migration address, whose link has PEER_MTU): ICMP
    alone, then, when ICMP got no answer or is not allowed, again with a listener on DST where
    QEMU would listen, for the TCP fallback."""
    record = probe_from(src, address, peer_mtu, None)
    if record.get("method") or not record.get("expected"):
        return record
    _, bind, first, last = incoming_endpoint(dst_facts)
    try:
        with dst.stream("pmtu-serve", bind=bind, first=first, last=last) as server:
            ready = server.next(RUN_TIMEOUT_S) or {"error": "no answer"}
            if "port" in ready:
                return probe_from(src, address, peer_mtu, ready["port"])
            why = ready["error"]
    except TransportError as exc:
        why = str(exc)
    return record | {"skipped": f"{record['skipped']}; {dst.label}: no TCP listener for the fallback: {why}"}
