"""The run's guest predictions: each entry's prediction, the evacuation's schedule against the
window, and guest.convergence judged again for the guests the schedule ends too late, with their
verdicts (the exit status counts them)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from migdoctor.engine import discover
from migdoctor.judging.convergence import Bandwidth, Terms
from migdoctor.run.collect import Collected, Measured
from migdoctor.run.guests import Judging, judge_guests

FACTS = json.loads((Path(__file__).resolve().parents[2] / "data" / "facts" / "healthy-report.json").read_text())[
    "facts"
]
CHECKS = [check for check in discover() if check.id == "guest.convergence"]


def guest(name: str, dirty: float) -> dict[str, Any]:
    return {
        "name": name,
        "uuid": "00000000-0000-0000-0000-000000000000",
        "xml": f"<domain type='kvm'><name>{name}</name><memory>4194304</memory></domain>",
        "snapshots": 0,
        "block_jobs": [],
        "disks": [],
        "memory_kib": 4 << 20,
        "migration": {
            "max_downtime_ms": 300,
            "max_speed_mib_s": 8796093022207,
            "memory_in_use_bytes": 4 << 30,
            "memory_in_use_source": "qemu-ram-mapping",
            "dirty_rate_mib_s": dirty,
            "dirty_rate_error": None,
            "dirty_rate_period_s": 1.0,
        },
    }


def judge(guests: list[dict[str, Any]], parallel: int = 1, window_s: float | None = None):
    src, dst = copy.deepcopy(FACTS["source"]), copy.deepcopy(FACTS["destination"])
    src["guests"], dst["virt"] = guests, {"free_memory_bytes": 1 << 40}
    hosts = {"hosta": Collected(src), "hostb": Collected(dst)}
    terms = {
        ("hosta", "hostb"): Terms(Bandwidth(1000.0, "probe"), 1000.0, "qemu+ssh://hostb/system", parallel, window_s)
    }
    looked_up = {
        g["name"]: {"cpu": {"result": "identical", "message": None, "baseline_xml": None}, "storage": []}
        for g in guests
    }
    measured = {("hosta", "hostb"): Measured(guests=looked_up)}  # as a live run makes them
    judging = Judging(CHECKS, set(), hosts, measured, {("hosta", "hostb"): "pass"}, terms)
    entries, plan, _, evacuation = judge_guests(judging, [("hosta", "hostb")], ())
    return entries, plan, evacuation


def test_every_entry_is_predicted_and_the_evacuation_fits():
    entries, plan, evacuation = judge([guest("a", 10), guest("b", 10)], window_s=3600)
    assert [entry["prediction"]["converges"] for entry in entries] == [True, True]
    assert [item["destination"] for item in plan] == ["hostb", "hostb"]
    one = entries[0]["prediction"]["total_s"]
    assert evacuation == {
        "parallel": 1,
        "window_s": 3600,
        "total_s": round(2 * one, 3),
        "fits": True,
        "missing_window_by": [],
        "not_predicted": [],
    }
    assert [entry["verdict"] for entry in entries] == ["pass", "pass"]


def test_the_guests_after_the_window_fail_by_name():
    """Three 4 GiB guests at about 37.5 s each, one after another, in a 100 s window: the third
    ends at about 112 s."""
    entries, _, evacuation = judge([guest("a", 10), guest("b", 10), guest("c", 10)], window_s=100)
    assert evacuation["fits"] is False and evacuation["missing_window_by"] == ["c"]
    assert [entry["verdict"] for entry in entries] == ["pass", "pass", "fail"]
    (late,) = [finding for finding in entries[2]["findings"] if finding["id"] == "guest.convergence"]
    assert "after the 100 s window" in late["summary"]


def test_parallel_migrations_share_the_bandwidth():
    """Two at once each get 500 Mb/s: a guest dirtying 70 MiB/s (above 59.6 MiB/s) no longer converges."""
    entries, _, evacuation = judge([guest("a", 70), guest("b", 1)], parallel=2, window_s=3600)
    assert entries[0]["prediction"]["converges"] is False and entries[0]["prediction"]["bandwidth_mbps"] == 500
    assert entries[0]["verdict"] == "fail"
    assert evacuation["fits"] is False and evacuation["missing_window_by"] == ["a"]
