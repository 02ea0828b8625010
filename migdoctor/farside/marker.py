"""The storage marker: proof, not a guess, that a disk's path is the same storage on two hosts.
The source writes an empty file with a random name beside the disk, the destination looks for
it by that name (and says what filesystem and free space it has there), the source removes it.

The filesystem is named as libvirt's virFileIsSharedFSType (src/util/virfile.c) tells shared
ones apart: by statfs's f_type, FUSE by the mount's subtype; other filesystems by the mount's
own type name (ext4, xfs, tmpfs, overlay)."""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import secrets
from functools import cache
from typing import Any

PREFIX = ".migdoctor-marker-"
# statfs f_type -> the name libvirt's shared-filesystem rule gives it (its *_MAGIC constants).
SHARED_MAGIC = {
    0x6969: "nfs",
    0x01161970: "gfs2",
    0x7461636F: "ocfs2",
    0x6B414653: "afs",
    0x517B: "smb3",
    0xFF534D42: "cifs",
    0x00C36400: "ceph",
    0x47504653: "gpfs",
    0x51626D6E: "quobyte",
}


def place(paths: list[str]) -> list[dict[str, Any]]:
    """One marker beside each path (a disk's file or block device): its full name, or why not."""
    placed = []
    for path in paths:
        marker = os.path.join(os.path.dirname(path) or ".", PREFIX + secrets.token_hex(8))
        try:
            os.close(os.open(marker, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
            placed.append({"path": path, "marker": marker, "error": None})
        except OSError as exc:
            placed.append({"path": path, "marker": None, "error": f"cannot write {marker}: {exc.strerror or exc}"})
    return placed


def look(markers: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """For each {"path", "marker"}: whether the marker is seen here (None: none was placed),
    whether a file is at the path here (a copy needs one, or a storage pool to create it in), the
    filesystem type of the path's directory and its free bytes (where a copied disk would be
    written)."""
    found = []
    for item in markers:
        directory = os.path.dirname(item["path"]) or "."
        entry: dict[str, Any] = {"path": item["path"], "same": None, "fstype": None, "free_bytes": None, "error": None}
        try:
            entry["same"] = os.path.lexists(item["marker"]) if item["marker"] else None
            entry["exists"] = os.path.exists(item["path"])
            status = os.statvfs(directory)
            entry["free_bytes"] = status.f_bavail * status.f_frsize
            entry["fstype"] = fs_type(directory)
        except OSError as exc:
            entry["error"] = f"{directory}: {exc.strerror or exc}"
        found.append(entry)
    return found


def remove(markers: list[str]) -> list[str]:
    """Remove markers this host wrote; returns those that could not be removed."""
    left = []
    for marker in markers:
        if not os.path.basename(marker).startswith(PREFIX):
            continue  # never anything but a marker
        try:
            os.unlink(marker)
        except FileNotFoundError:
            pass
        except OSError:
            left.append(marker)
    return left


def fs_type(path: str) -> str | None:
    """The filesystem type of PATH, as libvirt names the shared ones."""
    magic = statfs_type(path)
    if magic in SHARED_MAGIC:
        return SHARED_MAGIC[magic]
    return mount_type(path)


@cache
def libc() -> ctypes.CDLL | None:
    """The C library, found once per far side (find_library runs ldconfig to find it)."""
    name = ctypes.util.find_library("c")
    return None if name is None else ctypes.CDLL(name, use_errno=True)


def statfs_type(path: str) -> int | None:
    """statfs(2)'s f_type (the first field of struct statfs on Linux), or None without libc."""
    found = libc()
    if found is None:
        return None
    buffer = ctypes.create_string_buffer(256)  # struct statfs is 120 bytes on x86_64
    if found.statfs(os.fsencode(path), buffer) != 0:
        error = ctypes.get_errno()
        raise OSError(error, os.strerror(error), path)
    return ctypes.c_ulong.from_buffer(buffer).value & 0xFFFFFFFF


def mount_type(path: str) -> str | None:
    """The type /proc/self/mountinfo gives the mount holding PATH (fuse.glusterfs, ext4, ...)."""
    real = os.path.realpath(path)
    best, kind = "", None
    with open("/proc/self/mountinfo", encoding="utf-8", errors="replace") as handle:
        for line in handle:
            fields = line.split()
            point = fields[4].encode().decode("unicode_escape")  # \040 for a space
            after = fields[fields.index("-") + 1]
            inside = real == point or real.startswith(point.rstrip("/") + "/")
            if inside and len(point) >= len(best):
                best, kind = point, after
    return kind
