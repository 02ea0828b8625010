"""Each guest's predicted migration, its recommendations and the evacuation against the window,
on the lab's captured healthy pair (fast link shaped to 1 Gbit/s) and guests as the source's
libvirt describes them."""

from __future__ import annotations

from typing import Any

import pytest
from check_records import leg, probe_record, trial

from migdoctor.checkapi import Status
from migdoctor.engine import discover, judge_guest
from migdoctor.judging.convergence import (
    Bandwidth,
    Terms,
    evacuation,
    migration_bandwidth,
    prediction,
    recommendations,
    schedule,
)
from migdoctor.judging.guest import GuestCase

GIB_KIB = 1 << 20
URI = "qemu+ssh://root@hostb/system"
PROBED = Bandwidth(1000.0, "probe")
HUGEPAGES = (
    "<domain type='kvm'><name>db</name><memory>1048576</memory><memoryBacking><hugepages/></memoryBacking></domain>"
)


def guest(name: str = "web", dirty: float | None = 10.0, memory_gib: int = 4, **migration: Any) -> dict[str, Any]:
    return {
        "name": name,
        "memory_kib": memory_gib * GIB_KIB,
        "xml": f"<domain><name>{name}</name></domain>",
        "migration": {
            "max_downtime_ms": 300,
            "max_speed_mib_s": 8796093022207,
            "memory_in_use_bytes": memory_gib << 30,
            "memory_in_use_source": "rss",
            "dirty_rate_mib_s": dirty,
            "dirty_rate_error": None if dirty is not None else "this function is not supported",
            "dirty_rate_period_s": 1.0,
        }
        | migration,
    }


def test_the_test_migration_rate_comes_first(make_pair):
    """The leg's 219 MiB streamed at 912 Mb/s in 2.015 s of its 3.2 s: 1.185 s of set-up."""
    pair = make_pair(probe=probe_record(), trial=trial(leg(rate=912.0)))
    found = migration_bandwidth(pair)
    assert (found.mbps, found.source) == (912.0, "test-migration")
    assert found.setup_s == pytest.approx(1.185, abs=0.001)


def test_then_the_probe(make_pair):
    """The probe's rate once its stream is steady, not the whole sample's (which fills buffers first)."""
    probe = probe_record(rate_mbps=1089.9, bandwidth_mbps=640.0)
    assert migration_bandwidth(make_pair(probe=probe)) == Bandwidth(640.0, "probe")
    assert migration_bandwidth(make_pair(probe=probe_record(rate_mbps=640.0, bandwidth_mbps=None))) == Bandwidth(
        640.0, "probe"
    )


def test_then_the_link_speed_said_as_such(make_pair):
    assert migration_bandwidth(make_pair()) == Bandwidth(1000.0, "link-speed")


def test_a_converging_guest_is_predicted():
    found = prediction(guest(), PROBED)
    assert found["converges"] is True and found["rounds"] == 2
    assert found["total_s"] == pytest.approx(4 * 8.6067 * 1.0845, rel=0.01)
    assert found["bandwidth_mbps"] == 1000.0 and found["bandwidth_source"] == "probe"
    assert not found["capped_by_max_speed"]


def test_the_measured_set_up_is_added():
    plain = prediction(guest(), PROBED)["total_s"]
    assert prediction(guest(), Bandwidth(1000.0, "test-migration", 1.185))["total_s"] == pytest.approx(plain + 1.185)


def test_a_speed_cap_below_the_bandwidth_is_the_rate():
    found = prediction(guest(max_speed_mib_s=50), PROBED)
    assert found["bandwidth_mbps"] == pytest.approx(419.4, abs=0.1) and found["capped_by_max_speed"]


def test_a_guest_dirtying_faster_than_the_link_does_not_converge():
    found = prediction(guest(dirty=130), Bandwidth(1000.0, "test-migration", 0.5))
    assert found["converges"] is False and found["total_s"] is None
    assert "at or above the 119.2 MiB/s" in found["why_not"]


def test_sharing_the_bandwidth_can_stop_convergence():
    assert prediction(guest(dirty=80), PROBED)["converges"] is True
    assert prediction(guest(dirty=80), PROBED, share=2)["converges"] is False


def test_no_dirty_rate_is_no_prediction():
    assert prediction(guest(dirty=None), PROBED) == {"reason": "dirty rate unknown: this function is not supported"}


def test_no_bandwidth_is_no_prediction():
    assert "bandwidth" in prediction(guest(), Bandwidth(None, None))["reason"]


def fixes(found: list[str], word: str) -> list[str]:
    return [line for line in found if word in line]


def test_recommendations_for_a_guest_just_above_the_link():
    """130 MiB/s over 1000 Mb/s (119 MiB/s): a longer downtime cannot help (it never shrinks);
    auto-converge, post-copy and a network of at least 1091 Mb/s can."""
    found = recommendations(guest(dirty=130), 1000.0, 1000.0, URI)
    assert not fixes(found, "migrate-setmaxdowntime")
    assert fixes(found, "--auto-converge") == [
        f"throttle the guest's vCPUs until it converges: virsh migrate --live --p2p web {URI} --auto-converge"
    ]
    assert fixes(found, "--postcopy --postcopy-after-precopy")
    assert fixes(found, "a faster migration network: at least 1")
    assert not fixes(found, "--parallel")


def test_a_raised_downtime_limit_is_worked_out():
    """A 1 GiB guest dirtying 57.8 MiB/s over 500 Mb/s (59.6 MiB/s): each round leaves 97 % of
    what it sent, about 100 rounds to get under 300 ms; a limit of a few seconds stops it within
    30 rounds."""
    found = recommendations(guest(dirty=57.8, memory_gib=1), 500.0, 1000.0, URI)
    (line,) = fixes(found, "migrate-setmaxdowntime")
    limit = int(line.rsplit(" ", 1)[1])
    assert 3000 < limit <= 10_000
    assert prediction(guest(dirty=57.8, memory_gib=1, max_downtime_ms=limit), Bandwidth(500.0, "probe"))["rounds"] <= 30
    assert (
        prediction(guest(dirty=57.8, memory_gib=1, max_downtime_ms=limit - 50), Bandwidth(500.0, "probe"))["rounds"]
        > 30
    )
    assert line.endswith(f"virsh migrate-setmaxdowntime web {limit}")


def test_no_postcopy_with_hugepages():
    found = recommendations(guest(dirty=130) | {"xml": HUGEPAGES}, 1000.0, 1000.0, URI)
    assert not fixes(found, "--postcopy")


def test_parallel_connections_when_one_stream_fills_little_of_the_link():
    found = recommendations(guest(dirty=130), 1000.0, 10_000.0, URI)
    assert fixes(found, "--parallel --parallel-connections 8")


def test_alone_when_its_share_is_too_small():
    found = recommendations(guest(dirty=80), 1000.0, 1000.0, URI, parallel=2)
    assert fixes(found, "migrate web alone, first or last")


def test_a_speed_cap_holding_it_back_is_raised():
    found = recommendations(guest(dirty=60, max_speed_mib_s=50), 1000.0, 1000.0, URI)
    assert fixes(found, "virsh migrate-setspeed web 120")
    assert not fixes(recommendations(guest(dirty=60), 1000.0, 1000.0, URI), "migrate-setspeed")


def test_schedule_fills_free_slots():
    assert schedule([("a", 10), ("b", 4), ("c", 3), ("d", 5)], 2) == {"a": 10, "b": 4, "c": 7, "d": 12}


def moves(*figures: float | None) -> list[tuple[str, dict[str, Any]]]:
    return [
        (f"g{number}", {"converges": True, "total_s": seconds} if seconds is not None else {"converges": False})
        for number, seconds in enumerate(figures)
    ]


def test_an_evacuation_that_fits():
    assert evacuation(moves(10, 20, 30), 1, 100) == {
        "parallel": 1,
        "window_s": 100,
        "total_s": 60,
        "fits": True,
        "missing_window_by": [],
        "not_predicted": [],
    }


def test_the_guests_that_end_past_the_window_are_named():
    found = evacuation(moves(10, 20, 30, 40), 1, 50)
    assert found["fits"] is False and found["missing_window_by"] == ["g2", "g3"]
    assert found["total_s"] == 100


def test_a_guest_that_never_converges_misses_any_window():
    found = evacuation(moves(10, None), 2, 3600)
    assert found["fits"] is False and found["missing_window_by"] == ["g1"] and found["total_s"] is None


def test_an_unpredicted_guest_leaves_the_window_undecided():
    found = evacuation([("g0", {"converges": True, "total_s": 5}), ("g1", {"reason": "dirty rate unknown"})], 1, 60)
    assert found["fits"] is None and found["not_predicted"] == ["g1"] and found["total_s"] is None


def test_no_window_no_verdict():
    assert evacuation(moves(10), 1, None)["fits"] is None


CHECK = [check for check in discover() if check.id == "guest.convergence"]


def judged(make_pair, entry: dict[str, Any], terms: Terms | None):
    """guest.convergence over ENTRY from the lab's hosta to hostb, as the run judges it."""
    pair = make_pair()
    case = GuestCase(entry, pair.src, pair.dst, "hosta", "hostb", {}, convergence=terms)
    (finding,) = judge_guest(CHECK, case, set())
    return finding


def test_the_check_passes_a_guest_that_converges(make_pair):
    finding = judged(make_pair, guest(), Terms(PROBED))
    assert finding.status == Status.PASS
    assert finding.summary.startswith("web -> hostb: 2 rounds, ")


def test_the_check_fails_a_guest_that_never_converges_with_the_fixes(make_pair):
    finding = judged(make_pair, guest(dirty=130), Terms(PROBED, 1000.0, URI))
    assert finding.status == Status.FAIL
    assert "will not converge to hostb" in finding.summary
    assert f"virsh migrate --live --p2p web {URI} --auto-converge" in finding.remediation


def test_the_check_fails_a_guest_that_ends_after_the_window(make_pair):
    finding = judged(make_pair, guest(), Terms(PROBED, window_s=60, ends_at_s=75.5))
    assert finding.status == Status.FAIL
    assert "ends at 75.5 s, after the 60 s window" in finding.summary
    assert finding.remediation.startswith("migrate web first")


def test_the_check_passes_a_guest_that_ends_inside_the_window(make_pair):
    assert judged(make_pair, guest(), Terms(PROBED, window_s=60, ends_at_s=40)).status == Status.PASS


def test_a_prediction_on_the_nominal_link_speed_is_a_warning(make_pair):
    finding = judged(make_pair, guest(), Terms(Bandwidth(1000.0, "link-speed")))
    assert finding.status == Status.WARN and "link speed, not a measured rate" in finding.summary


def test_no_migration_facts_skip_naming_them(make_pair):
    entry = guest()
    del entry["migration"]
    finding = judged(make_pair, entry, Terms(PROBED))
    assert finding.status == Status.SKIP and "migration not collected" in finding.summary


def test_an_unmeasured_dirty_rate_skips_with_libvirts_reason(make_pair):
    finding = judged(make_pair, guest(dirty=None), Terms(PROBED))
    assert finding.status == Status.SKIP and "this function is not supported" in finding.summary
