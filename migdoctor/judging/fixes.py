"""Remediation lines in the form admins paste: `host:file: key = value`."""

from __future__ import annotations

from typing import Any

from migdoctor.judging.endpoints import dst_migration_addresses
from migdoctor.judging.facts import advertised_name
from migdoctor.judging.pair import Pair


def qemu_conf_line(pair: Pair, key: str, value: Any) -> str:
    """A remediation line in the form admins paste: host:file: key = value."""
    path = ((pair.dst.get("config") or {}).get("qemu_conf") or {}).get("path", "/etc/libvirt/qemu.conf")
    rendered = f'"{value}"' if isinstance(value, str) else str(value)
    return f"{pair.dst_label}:{path}: {key} = {rendered}"


def better_name(pair: Pair) -> str:
    """The name (or address) the destination should advertise instead: a PTR name of its migration
    address as the source sees it, else the address itself. Never the name advertised now: that
    one is what failed (a PTR may still name it when its forward record is gone)."""
    current = advertised_name(pair.dst)[0].lower().rstrip(".")
    addresses = [address for _, address in dst_migration_addresses(pair)]
    for reverse in pair.src["resolution"].get("reverse_lookups", []):
        names = [name for name in reverse["names"] if name.lower().rstrip(".") != current]
        if reverse["address"] in addresses and names:
            return str(names[0])
    return addresses[0] if addresses else "<the destination's address on the migration network>"


def migration_host_fix(pair: Pair) -> str:
    return qemu_conf_line(pair, "migration_host", better_name(pair))
