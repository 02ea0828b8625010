"""The peer connection, asked of the source's far side (migdoctor/farside/peer.py)."""

from __future__ import annotations

from typing import Any

from migdoctor.transports import TransportError


def run_peer_connection(src: Any, uri: str) -> dict[str, Any]:
    """Control side: the source opens URI; a transport failure is recorded as the result."""
    try:
        result: dict[str, Any] = src.call("peer-connect", uri=uri)
        return result
    except TransportError as exc:
        return {"uri": uri, "error": str(exc)}
