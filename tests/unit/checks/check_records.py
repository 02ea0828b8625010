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
        "bytes": 4194304,
        "rate_mbps": 1089.9,
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
