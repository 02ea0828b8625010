"""Writing a file an admin named, as root, the way they expect: never replacing a symlink or a
special file with a regular one, never leaving half a file or a temporary file behind."""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Iterable
from pathlib import Path


class OutputError(Exception):
    """The target cannot or must not be written; one line naming it."""


def real_target(path: Path, inputs: Iterable[str | Path] = ()) -> Path:
    """Where writing PATH lands: through symlinks, as the shell's `>` does (a dangling symlink
    creates its target). A directory or special file (device, FIFO, socket) is refused: as root
    `--output /dev/full` would otherwise replace the device node with a regular file. So is one of
    the run's INPUTS by any name: a report written over the facts it judged loses them."""
    real = Path(os.path.realpath(path))
    for given in inputs:
        with contextlib.suppress(OSError):  # an input that is not there cannot be overwritten
            if os.path.samefile(real, given):
                raise OutputError(f"{path}: the same file as the input {given}; refusing to write a report over it")
    try:
        mode = os.stat(real).st_mode
    except FileNotFoundError:
        mode = None
    except OSError as exc:
        raise OutputError(f"{path}: cannot write report: {exc.strerror}") from None
    if mode is not None and not stat.S_ISREG(mode):
        kind = "a directory" if stat.S_ISDIR(mode) else "not a regular file (device, FIFO or socket)"
        raise OutputError(f"{path}: {kind}; refusing to write a report there")
    parent = real.parent
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        raise OutputError(f"{path}: cannot write report: {parent} is not a directory")
    return real


def write_atomically(path: Path, text: str | Iterable[bytes]) -> Path:
    """Write TEXT (or its pieces of UTF-8, in order) to a temporary file beside PATH's real target,
    fsync it, rename it into place and fsync the directory: a reader sees the old file or the whole
    new one. Returns the real target."""
    real = real_target(path)
    umask = os.umask(0)
    os.umask(umask)
    temporary = None
    try:
        real.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=f".{real.name}.", dir=real.parent)
        try:  # the file it replaces keeps its mode and owner, as with the shell's `>`
            before = os.stat(real)
            with contextlib.suppress(PermissionError):  # not root: another's file stays theirs in mode only
                os.fchown(handle, before.st_uid, before.st_gid)
            os.fchmod(handle, stat.S_IMODE(before.st_mode))
        except FileNotFoundError:
            os.fchmod(handle, 0o666 & ~umask)  # a report is for sharing: the umask decides, not mkstemp's 0600
        with os.fdopen(handle, "wb") as stream:
            stream.writelines([text.encode()] if isinstance(text, str) else text)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, real)
        temporary = None
        directory = os.open(real.parent, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)
    except OSError as exc:
        raise OutputError(f"{path}: cannot write report: {exc.strerror}") from None
    finally:  # any error, Ctrl-C included: no temporary file left behind
        if temporary is not None:
            Path(temporary).unlink(missing_ok=True)
    return real
