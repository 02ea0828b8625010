"""Byte counters of every link, read from sysfs: cheap enough to take just before and after a
stream, to tell afterwards which link carried it."""

from __future__ import annotations

import os
from typing import Any

SYS_NET = "/sys/class/net"


def read_counter(link: str, name: str) -> int:
    with open(f"{SYS_NET}/{link}/statistics/{name}", encoding="ascii") as handle:
        return int(handle.read())


def link_counters() -> dict[str, dict[str, int]]:
    """rx/tx bytes per link of this network namespace (sysfs shows the namespace it was mounted in).
    A link removed while it is read (ENOENT, or EINVAL from a link being unregistered) is left out."""
    counters = {}
    for link in sorted(os.listdir(SYS_NET)):
        try:
            counters[link] = {"rx_bytes": read_counter(link, "rx_bytes"), "tx_bytes": read_counter(link, "tx_bytes")}
        except OSError:
            continue
    return counters


def admitted_counters(sample: Any) -> dict[str, dict[str, int]]:
    """A link_counters() answer from another host, kept only when it has that shape (whole byte
    counts per link); anything else (a wrapper's output, another version) counts as no answer."""
    if isinstance(sample, dict) and all(
        isinstance(counts, dict) and all(type(counts.get(key)) is int for key in ("rx_bytes", "tx_bytes"))
        for counts in sample.values()
    ):
        return sample
    return {}
