"""How much of a running guest's RAM is resident on this host: the pages the guest ever touched.
A page never touched reads as zero and a migration sends it as a 9-byte marker, so the resident
part of the guest's RAM mapping in its QEMU process is the best bound there is, before a
migration, on the pages sent in full (libvirt has no call for it: its `rss` is the whole QEMU
process, QEMU's own memory and ROM images included)."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from typing import Any

MAPPING = re.compile(r"^[0-9a-f]+-[0-9a-f]+ ")
RESIDENT_FIELDS = ("Rss", "Private_Hugetlb", "Shared_Hugetlb")  # hugetlbfs pages are not in Rss


def qemu_pids(name: str) -> Iterator[int]:
    """This host's QEMU processes running guest NAME, found by the `-name guest=NAME,` argument
    libvirt gives each, so no other guest is touched."""
    marker = f"guest={name},"
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as handle:
                argv = handle.read().decode(errors="replace").split("\0")
        except OSError:
            continue
        if argv and "qemu" in os.path.basename(argv[0]) and any(arg.startswith(marker) for arg in argv):
            yield int(pid)


def mappings(smaps: str) -> Iterator[dict[str, int]]:
    """Each mapping of a /proc/PID/smaps text as {field: kB}."""
    current: dict[str, int] | None = None
    for line in smaps.splitlines():
        if MAPPING.match(line):
            if current is not None:
                yield current
            current = {}
        elif current is not None and line.endswith(" kB"):
            field, _, value = line.partition(":")
            current[field] = int(value.split()[0])
    if current is not None:
        yield current


def resident_kib(smaps: str, memory_kib: int) -> int | None:
    """The resident KiB of the mapping(s) exactly the guest's memory size (its RAM block), or None
    when no mapping has that size (memory split over NUMA backends, hot-plugged DIMMs)."""
    ram = [mapping for mapping in mappings(smaps) if mapping.get("Size") == memory_kib]
    if not ram:
        return None
    return sum(mapping.get(field, 0) for mapping in ram[:1] for field in RESIDENT_FIELDS)


def guest_ram(guests: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """{name: {"resident_bytes": int} or {"error": str}} for GUESTS ({"name", "memory_kib"})."""
    found: dict[str, dict[str, Any]] = {}
    for guest in guests:
        name = guest["name"]
        pids = list(qemu_pids(name))
        if len(pids) != 1:
            found[name] = {"error": f"{len(pids)} QEMU processes run guest {name} here"}
            continue
        try:
            with open(f"/proc/{pids[0]}/smaps", encoding="ascii", errors="replace") as handle:
                kib = resident_kib(handle.read(), guest["memory_kib"])
        except OSError as exc:
            found[name] = {"error": f"/proc/{pids[0]}/smaps: {exc.strerror}"}
            continue
        if kib is None:
            found[name] = {"error": f"no mapping of the guest's {guest['memory_kib']} KiB in its QEMU process"}
        else:
            found[name] = {"resident_bytes": kib * 1024}
    return found
