"""Reading input migdoctor does not control (facts, reports, inventories) within bounds: its size,
its kind of file, its nesting. What may never answer is waited for in migdoctor/facts/waiting.py."""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path
from typing import Any

MAX_INPUT_BYTES = 64 * 1024 * 1024
# Nesting no migdoctor file comes near (a report holding facts: 14 levels); deeper is refused
# before anything walks it recursively (schema validation, encoding, error wording).
MAX_DEPTH = 64


def read_input(path: str | Path) -> str:
    """A file an admin named as input (saved facts, a report, an inventory): a regular file of at
    most 64 MiB of UTF-8 text (or /dev/null, empty), so a FIFO, socket or device named by mistake,
    or a binary, is a one-line error (ValueError, or OSError when unreadable), not a hang or a crash."""
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY)  # a FIFO's open waits for a writer
    except OSError as exc:
        if exc.errno == errno.ENXIO:  # a socket
            raise ValueError(f"not a regular file ({file_kind(os.stat(path).st_mode)})") from None
        raise
    found = os.fstat(descriptor)
    mode = found.st_mode
    if not stat.S_ISREG(mode):
        os.close(descriptor)
        if stat.S_ISCHR(mode) and found.st_rdev == os.stat(os.devnull).st_rdev:
            return ""  # -i /dev/null: no inventory, as scripts say it
        raise ValueError(f"not a regular file ({file_kind(mode)})")
    with open(descriptor, "rb") as handle:
        data = handle.read(MAX_INPUT_BYTES + 1)
    if len(data) > MAX_INPUT_BYTES:
        raise ValueError(f"larger than {MAX_INPUT_BYTES // 2**20} MiB, not a migdoctor file")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"not UTF-8 text (byte {exc.start}), not a migdoctor file") from None


def file_kind(mode: int) -> str:
    """What a file that is not a regular one is, for the one line refusing it."""
    kinds = {stat.S_ISDIR: "a directory", stat.S_ISFIFO: "a FIFO", stat.S_ISSOCK: "a socket"}
    return next((kind for test, kind in kinds.items() if test(mode)), "a device")


def parse_json(text: str | bytes) -> Any:
    """JSON an admin or a host handed over, by orjson (a fleet's 200 files: a third of json's
    time); ValueError (json.JSONDecodeError when it is not JSON) when it nests deeper than MAX_DEPTH."""
    import orjson  # not at the top: the far side runs this module on a bare python3

    document = orjson.loads(text)
    if nesting(document) > MAX_DEPTH:
        raise ValueError(f"nested deeper than {MAX_DEPTH} levels, not a migdoctor file")
    return document


def nesting(document: Any) -> int:
    """How deep DOCUMENT's lists and objects nest (a scalar: 0), found level by level, not by recursion."""
    depth = 0
    containers = [document] if isinstance(document, dict | list) else []
    while containers:
        depth += 1
        children = (child for node in containers for child in (node.values() if isinstance(node, dict) else node))
        containers = [child for child in children if isinstance(child, dict | list)]
    return depth
