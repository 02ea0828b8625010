"""Listening TCP sockets (sock_diag over netlink) and, where /proc tells, the process owning each."""

from __future__ import annotations

import os
import socket
from typing import Any

from pyroute2.netlink.diag import DiagSocket

from migdoctor.facts.gaps import read_text

TCP_LISTEN_STATE = 10


def socket_owners() -> dict[int, dict[str, Any]]:
    """Map socket inode to owning process by reading /proc/PID/fd links (as ss -p does)."""
    owners: dict[int, dict[str, Any]] = {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        fd_dir = f"/proc/{pid}/fd"
        try:
            fds = os.listdir(fd_dir)
            name = read_text(f"/proc/{pid}/comm").strip()
        except OSError:
            continue
        for fd in fds:
            try:
                target = os.readlink(f"{fd_dir}/{fd}")
            except OSError:
                continue
            if target.startswith("socket:["):
                owners.setdefault(int(target[8:-1]), {"pid": int(pid), "name": name})
    return owners


def collect_listeners() -> list[dict[str, Any]]:
    owners = socket_owners()
    listeners = []
    with DiagSocket() as diag:
        diag.bind()
        for family, label in ((socket.AF_INET, "inet"), (socket.AF_INET6, "inet6")):
            for message in diag.get_sock_stats(family=family, states=1 << TCP_LISTEN_STATE):
                listeners.append(
                    {
                        "family": label,
                        "address": message["idiag_src"],
                        "port": message["idiag_sport"],
                        "process": owners.get(message["idiag_inode"]),
                    }
                )
    return sorted(listeners, key=lambda item: (item["port"], item["family"], item["address"]))
