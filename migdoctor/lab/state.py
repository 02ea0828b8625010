"""What `lab up` recorded about the running lab, in STATE_DIR/lab.json.

`down` must work from whatever a crashed `up` left, so reading never fails: a missing or
damaged file is an empty record.
"""

import json
import os
from typing import Any

from migdoctor.lab import layout

FILE = layout.STATE_DIR / "lab.json"


def load() -> dict[str, Any]:
    try:
        data = json.loads(FILE.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def save(data: dict[str, Any]) -> None:
    """Write atomically, so a reader never sees half a record."""
    tmp = FILE.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    os.replace(tmp, FILE)


def pids(data: dict[str, Any], owner: str) -> dict[str, int]:
    """The recorded PIDs of one host (or of `dns`), by role."""
    found = data.get("pids", {}).get(owner, {})
    return {k: v for k, v in found.items() if isinstance(v, int)}


def set_pid(data: dict[str, Any], owner: str, role: str, pid: int | None) -> None:
    data.setdefault("pids", {}).setdefault(owner, {})[role] = pid
