"""A pair's findings counted by status: what its `totals` say, whether the pair was written whole
(report.document) or is read back from the compact form (report.compact)."""

from __future__ import annotations

from collections import Counter
from typing import Any

STATUSES = ("pass", "warn", "fail", "skip", "error")


def totals(findings: list[dict[str, Any]]) -> dict[str, int]:
    counted = Counter(f["status"] for f in findings if not f["ignored"])
    result = {status: counted.get(status, 0) for status in STATUSES}
    result["ignored"] = sum(1 for f in findings if f["ignored"])
    return result
