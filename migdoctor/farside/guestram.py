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

MAPPING = re.compile(r"^([0-9a-f]+)-([0-9a-f]+) .*$", re.MULTILINE)
GUEST_NAME = re.compile(r"guest=((?:[^,]|,,)*)")  # QEMU doubles a comma inside an option value
RESIDENT_FIELDS = ("Rss", "Private_Hugetlb", "Shared_Hugetlb")  # hugetlbfs pages are not in Rss


def qemu_processes() -> dict[str, list[int]]:
    """This host's QEMU processes by the guest each runs, named by the `-name guest=NAME,`
    argument libvirt gives each (one pass over /proc for all guests)."""
    found: dict[str, list[int]] = {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as handle:
                argv = handle.read().decode(errors="replace").split("\0")
        except OSError:
            continue
        name = guest_named(argv)
        if name is not None:
            found.setdefault(name, []).append(int(pid))
    return found


def guest_named(argv: list[str]) -> str | None:
    """The guest a QEMU command line runs (its `-name guest=NAME,...`); None for any other process."""
    if not argv or "qemu" not in os.path.basename(argv[0]):
        return None
    named = next((match for arg in argv if (match := GUEST_NAME.match(arg))), None)
    return None if named is None else named[1].replace(",,", ",")


def qemu_pids(name: str) -> list[int]:
    """The QEMU processes running guest NAME, so no other guest is touched."""
    return qemu_processes().get(name, [])


def mappings(smaps: str) -> Iterator[tuple[int, str]]:
    """Each mapping of a /proc/PID/smaps text: (its size in KiB, from its address range; the text of
    its fields), found by their header lines alone: a QEMU has a thousand mappings and only one
    is read further."""
    headers = list(MAPPING.finditer(smaps))
    for header, following in zip(headers, [*headers[1:], None], strict=True):
        size_kib = (int(header[2], 16) - int(header[1], 16)) // 1024
        yield size_kib, smaps[header.end() : following.start() if following else len(smaps)]


def fields_kib(text: str) -> dict[str, int]:
    """The `Field: N kB` lines of one mapping as {field: kB}."""
    found = {}
    for line in text.splitlines():
        if line.endswith(" kB"):
            field, _, value = line.partition(":")
            found[field] = int(value.split()[0])
    return found


def resident_kib(smaps: str, memory_kib: int) -> int | None:
    """The resident KiB of the first mapping exactly the guest's memory size (its RAM block), or
    None when no mapping has that size (memory split over NUMA backends, hot-plugged DIMMs)."""
    for size_kib, text in mappings(smaps):
        if size_kib == memory_kib:
            fields = fields_kib(text)
            return sum(fields.get(field, 0) for field in RESIDENT_FIELDS)
    return None


def guest_ram(guests: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """{name: {"resident_bytes": int} or {"error": str}} for GUESTS ({"name", "memory_kib"})."""
    processes = qemu_processes()
    found: dict[str, dict[str, Any]] = {}
    for guest in guests:
        name = guest["name"]
        pids = processes.get(name, [])
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
