"""Records the checks judge that are not facts: what the active steps return."""

from typing import Any


def probe_record(**change: Any) -> dict[str, Any]:
    """What migdoctor.actions.probe.run_probe returned in the healthy lab, with CHANGEs."""
    record = {
        "name": "hostb-fast.lab.test",
        "port": 49152,
        "error": None,
        "last_port": 49215,
        "last_error": None,
        "last_untried": None,
        "bytes": 75104256,
        "rate_mbps": 962.6,
        "bandwidth_mbps": 956.4,
        "bandwidth_bytes": 59837164,
        "bandwidth_s": 0.5,
        "source_link": "a-fast",
        "destination_link": "b-fast",
        "address": "198.51.100.2",
        "local_address": "198.51.100.1",
        "path_mtu": path_mtu_record(),
    }
    return record | change


def path_mtu_record(**change: Any) -> dict[str, Any]:
    """What migdoctor.farside.pmtu.probe returned from hosta in the healthy lab, with CHANGEs."""
    record = {
        "address": "198.51.100.2",
        "source_link": "a-fast",
        "source_mtu": 1500,
        "peer_mtu": 1500,
        "expected": 1500,
        "method": "icmp",
        "largest": 1500,
        "too_big_from": None,
        "too_big_mtu": None,
        "skipped": None,
    }
    return record | change


MIB = 1024 * 1024


def leg(source: str = "a-fast", destination: str = "b-fast", rate: float = 955.0, **changes: Any) -> dict[str, Any]:
    record = {
        "from": "hosta",
        "to": "hostb",
        "ok": True,
        "error": None,
        "wall_s": 3.2,
        "samples": 28,
        "source_link": source,
        "source_tx_bytes": 219 * MIB,
        "destination_link": destination,
        "destination_rx_bytes": 219 * MIB,
        "rate_mbps": rate,
        "wall_rate_mbps": 560.0,
    }
    return record | changes


def trial(*legs: dict[str, Any], interrupted: bool = False) -> dict[str, Any]:
    return {
        "domain": "migdoctor-canary-x",
        "canary": True,
        "virt_type": "kvm",
        "memory_mib": 256,
        "payload_mib": 208,
        "migrate_uri": None,
        "timeout_s": 94.4,
        "legs": list(legs),
        "completed_stats": None,
        "cleanup": [],
        "interrupted": interrupted,
    }
