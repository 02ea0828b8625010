"""`python -m migdoctor` run as an admin runs it, for the unit tests that hold a whole command line
to its output: wide columns, and never the caller's inventory."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any


def migdoctor(cwd: Path | None, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "migdoctor", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd,
        env={**os.environ, "COLUMNS": "200", "MIGDOCTOR_INVENTORY": "/dev/null"},
    )


def migdoctor_report(
    cwd: Path, *args: str, timeout: float = 60
) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    """The run and the JSON report it wrote to CWD/report.json ({} when it wrote none)."""
    output = cwd / "report.json"
    done = migdoctor(cwd, *args, "--output", str(output), timeout=timeout)
    return done, json.loads(output.read_text()) if output.exists() else {}
