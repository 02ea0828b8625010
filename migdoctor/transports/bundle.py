"""The far side's code as one zip built from the installed packages (migdoctor's collecting code,
pyroute2, dnspython), cached on the control node by content hash. When the host's python3 is the
control node's version the zip holds bytecode, so the host compiles nothing; a package whose
Requires-Python the host's Python does not meet stays out (its import there then fails by name,
and what needs it is a gap)."""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib.util
import io
import marshal
import os
import re
import sys
import threading
import zipfile
from pathlib import Path

# import name: its distribution, whose Requires-Python decides; migdoctor's far side is kept to 3.9.
PACKAGES: dict[str, str | None] = {"migdoctor": None, "pyroute2": "pyroute2", "dns": "dnspython"}
# Of migdoctor, what runs on a host (kept to Python 3.9), beside the package's own __init__.py;
# the rest stays on the control node.
FAR_SIDE = ("migdoctor/farside/", "migdoctor/facts/", "migdoctor/parsers/")
ORIGIN = "<migdoctor-bundle>"  # the file name far-side tracebacks show; boot.py uses the same


def cache_dir() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "migdoctor"


def runs_on(distribution: str, version: tuple[int, int]) -> bool:
    """Whether the installed DISTRIBUTION's `Requires-Python: >=X.Y` admits VERSION."""
    from importlib import metadata  # not on a warm cache's path: 10 ms before ssh starts

    required = " ".join(metadata.metadata(distribution).get_all("Requires-Python") or [])
    minimum = re.search(r">=\s*(\d+)\.(\d+)", required)
    return not minimum or version >= (int(minimum[1]), int(minimum[2]))


def package_files(version: tuple[int, int] | None = None) -> list[tuple[str, Path]]:
    """(name in the zip, installed file) for every module a far side of VERSION may import."""
    files = []
    for package, distribution in PACKAGES.items():
        if version and distribution and not runs_on(distribution, version):
            continue
        spec = importlib.util.find_spec(package)
        assert spec is not None and spec.submodule_search_locations, package
        root = Path(next(iter(spec.submodule_search_locations)))
        for path in sorted(root.rglob("*.py")):
            name = f"{package}/{path.relative_to(root).as_posix()}"
            if package != "migdoctor" or name == "migdoctor/__init__.py" or name.startswith(FAR_SIDE):
                files.append((name, path))
    return files


def build(files: list[tuple[str, bytes]], compiled: bool) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        for name, source in files:
            if compiled:  # boot.py skips the 16-byte header: the bundle's digest stands for it
                code = compile(source, f"{ORIGIN}/{name}", "exec", dont_inherit=True)
                archive.writestr(name + "c", importlib.util.MAGIC_NUMBER + bytes(12) + marshal.dumps(code))
            else:
                archive.writestr(name, source)
    return buffer.getvalue()


BUILDING = threading.Lock()  # hosts greet at once, and make_ahead's thread may be building already


@functools.cache
def bundle(far_magic: bytes | None, far_version: tuple[int, int] | None = None) -> bytes:
    """The zip for a far side of FAR_VERSION whose interpreter has FAR_MAGIC (bytecode when it is
    ours); built once per run. A link named for the files' sizes and times finds the zip named for
    their content without reading them, so a run with the cache warm only stats the files. One
    thread at a time: a second caller finds what the first one built."""
    with BUILDING:
        return cached_bundle(far_magic, far_version)


def cached_bundle(far_magic: bytes | None, far_version: tuple[int, int] | None) -> bytes:
    compiled = far_magic == importlib.util.MAGIC_NUMBER
    flavour = f"pyc-{far_magic.hex()}" if compiled and far_magic else "py"
    stats = hashlib.sha256(repr((flavour, far_version)).encode())
    for name, path in package_files():
        status = path.stat()
        stats.update(f"{name} {status.st_size} {status.st_mtime_ns}\n".encode())
    shortcut = cache_dir() / f"by-stat-{stats.hexdigest()[:20]}.zip"
    if shortcut.is_file():
        return shortcut.read_bytes()
    files = [(name, path.read_bytes()) for name, path in package_files(far_version)]
    content = hashlib.sha256()
    for name, source in files:
        content.update(name.encode() + b"\0" + source + b"\0")
    cached = cache_dir() / f"far-side-{content.hexdigest()[:20]}-{flavour}.zip"
    if not cached.is_file():
        write_atomically(cached, build(files, compiled))
    with contextlib.suppress(FileExistsError):
        shortcut.symlink_to(cached.name)
    return cached.read_bytes()


@functools.cache
def make_ahead() -> None:
    """Start making the bundle for a host whose Python is this one (the usual case) while ssh
    connects: the host's greeting then finds it made, not 15 ms of stat calls away. Not a daemon
    thread: a run that ends first (a host refusing at once, on a cold cache) waits for the build
    instead of leaving half a zip in the cache."""

    def make() -> None:
        with contextlib.suppress(Exception):  # the greeting's own call raises it, where it is handled
            bundle(importlib.util.MAGIC_NUMBER, sys.version_info[:2])

    threading.Thread(target=make).start()


def write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(f".{os.getpid()}.tmp")
    partial.write_bytes(data)
    os.replace(partial, path)
