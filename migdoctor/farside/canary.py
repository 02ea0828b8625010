"""The canary's halves on a host: the random payload its RAM is loaded with (on both hosts, at
the same path), and ending its qemu when libvirtd cannot. The canary itself is
migdoctor/actions/canary.py."""

from __future__ import annotations

import os
import signal
from pathlib import Path

from migdoctor.farside.guestram import qemu_pids

MIB = 1024 * 1024


def write_payload(path: Path, size_mib: int) -> Path:
    """Write (once per size) a file of random bytes for the canary's RAM; return its path."""
    if path.is_file() and path.stat().st_size == size_mib * MIB:
        return path
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as out:
        for _ in range(size_mib):
            out.write(os.urandom(MIB))
    os.replace(tmp, path)
    return path


def kill_processes(name: str) -> list[int]:
    """End this host's qemu running canary NAME when its libvirtd cannot (killed mid-migration)."""
    killed = qemu_pids(name)
    for pid in killed:
        os.kill(pid, signal.SIGKILL)
    return killed
