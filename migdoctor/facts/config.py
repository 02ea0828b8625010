"""Hypervisor configuration files and daemon command lines that decide where migrations listen."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from migdoctor.facts.gaps import Gaps, read_text
from migdoctor.parsers.libvirt_conf import parse_libvirt_conf, redact_secrets
from migdoctor.parsers.sxp import parse_xend_config
from migdoctor.parsers.xl_conf import parse_xl_conf

CONFIG_FILES: dict[str, tuple[str, Callable[[str, str], dict[str, Any]]]] = {
    "qemu_conf": ("/etc/libvirt/qemu.conf", parse_libvirt_conf),
    "libvirtd_conf": ("/etc/libvirt/libvirtd.conf", parse_libvirt_conf),
    "xend_config": ("/etc/xen/xend-config.sxp", parse_xend_config),
    "xl_conf": ("/etc/xen/xl.conf", parse_xl_conf),
}
DAEMONS = {"libvirtd", "virtqemud", "virtproxyd", "xend", "xl"}


def read_config(fact: str, gaps: Gaps) -> dict[str, Any] | None:
    """A config that is absent is a fact (present: false); one that cannot be read is a gap."""
    path, parse = CONFIG_FILES[fact]
    if not os.path.exists(path):
        return {"path": path, "present": False, "values": {}}
    values = gaps.attempt(fact, lambda: redact_secrets(parse(read_text(path), path)))
    if values is None:
        return None
    return {"path": path, "present": True, "values": values}


def running_daemons() -> list[dict[str, Any]]:
    """Hypervisor daemons with their arguments: `libvirtd --listen` changes what it listens on."""
    daemons = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            argv = read_text(f"/proc/{pid}/cmdline").split("\0")[:-1]
        except OSError:
            continue
        if argv and os.path.basename(argv[0]) in DAEMONS:
            daemons.append({"pid": int(pid), "name": os.path.basename(argv[0]), "argv": argv})
    return daemons


def collect_config(gaps: Gaps) -> dict[str, Any]:
    record: dict[str, Any] = {fact: read_config(fact, gaps) for fact in CONFIG_FILES}
    record["daemons"] = gaps.attempt("daemons", running_daemons)
    return record
