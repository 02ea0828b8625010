"""Records the checks judge that are not facts: what the active steps return."""

from typing import Any


def probe_record(**change: Any) -> dict[str, Any]:
    """What migdoctor.actions.probe.run_probe returned in the healthy lab, with CHANGEs."""
    record = {
        "name": "hostb-fast.lab.test",
        "port": 49152,
        "error": None,
        "bytes": 4194304,
        "rate_mbps": 1089.9,
        "source_link": "a-fast",
        "destination_link": "b-fast",
        "address": "198.51.100.2",
        "local_address": "198.51.100.1",
    }
    return record | change
