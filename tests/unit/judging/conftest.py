"""The facts captured in the two-hypervisor lab (tests/data/facts), a fresh copy per use."""

import copy
import json
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import pytest

FACTS_DIR = Path(__file__).resolve().parents[2] / "data" / "facts"


@cache
def load(report: str) -> dict[str, Any]:
    return json.loads((FACTS_DIR / f"{report}-report.json").read_text(encoding="utf-8"))["facts"]


@pytest.fixture
def captured() -> Callable[[str], dict[str, Any]]:
    """captured("seed") -> {"source": hosta's facts, "destination": hostb's}, safe to change."""
    return lambda report: copy.deepcopy(load(report))
