"""The pre-copy model against cases computed by hand and against migrations measured in the lab."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from migdoctor.judging.precopy import MAX_ROUNDS, MIB, predict

GIB = 1 << 30


def test_an_idle_guest_is_one_round_of_its_memory():
    """1 GiB all in use, nothing dirtied, 1000 Mb/s: 1 GiB * 4104/4096 = 1,075,838,976 bytes
    in 8.6067 s; nothing left, so no downtime beyond device state."""
    found = predict(GIB, GIB, 0, 1000, 300)
    assert found.converges and found.rounds == 1
    assert found.data_bytes == 1_075_838_976
    assert found.total_s == pytest.approx(8.606711808)
    assert found.downtime_ms == 0


def test_zero_pages_go_as_markers():
    """1 GiB of which 256 MiB in use: 256 MiB * 4104/4096 + 196,608 zero pages * 9 bytes."""
    found = predict(GIB, 256 * MIB, 0, 1000, 300)
    assert found.data_bytes == 268_959_744 + 1_769_472


def test_a_dirtying_guest_needs_a_second_round():
    """1 GiB in use dirtying 10 MiB/s at 1000 Mb/s (125e6 B/s), limit 300 ms (threshold 37.5 MB):
    round 1 takes 8.6067 s and leaves 10 MiB/s * 8.6067 s * 4104/4096 = 90.42 MB dirty, above the
    threshold; round 2 sends it in 0.7234 s, which leaves 7.60 MB: under 37.5 MB, the guest
    stops for 7.60 MB / 125e6 B/s = 60.8 ms."""
    found = predict(GIB, GIB, 10, 1000, 300)
    assert found.converges and found.rounds == 2
    assert found.total_s == pytest.approx(9.3909, abs=1e-3)
    assert found.data_bytes == pytest.approx(1_173_863_301, abs=2)
    assert found.downtime_ms == pytest.approx(60.80, abs=0.01)


def test_the_lab_migration_over_the_shaped_lan():
    """The lab's measured migration (128 MiB guest, 64 MiB random payload, idle, LAN shaped by
    tbf to 100 Mbit/s): ~68 MB on the link in 6.3 s wall, of which libvirt's set-up is ~0.9 s
    (the same migration on the fast link takes 0.6-0.8 s). The model: 67.4 MB in 5.39 s, and
    6.29 s with the set-up added."""
    found = predict(128 * MIB, 64 * MIB, 0, 100, 300, setup_s=0.9)
    assert found.converges
    assert found.data_bytes == pytest.approx(68e6, rel=0.02)
    assert found.total_s == pytest.approx(6.3, rel=0.05)


def test_the_lab_migration_over_the_fast_link():
    """Measured 2026-12-06 on the healthy lab: the canary (128 MiB, 64 MiB payload, idle; its RAM
    mapping held 67,584 KiB resident) to hostb over the fast link shaped to 1 Gbit/s: libvirt's
    data_processed 67,445,256 bytes at 957 Mb/s (memory_bps), wall 1.099 s of which the streaming
    is 0.56 s: a migration this short is mostly libvirt's set-up, which the test migration measures."""
    found = predict(128 * MIB, 67584 * 1024, 0, 957, 300)
    assert found.data_bytes == pytest.approx(67_445_256, rel=0.05)
    assert found.total_s == pytest.approx(67_445_256 * 8 / 957e6, rel=0.05)


@pytest.mark.parametrize(
    ("dirty", "wall_s", "data_processed"), [(2, 2.736, 239_677_996), (30, 3.338, 306_671_748)], ids=["calm", "busy"]
)
def test_the_lab_dirtying_guests(dirty, wall_s, data_processed):
    """Measured 2026-12-06, scenario dirty-guests: 256 MiB guests with 239,075,328 bytes of RAM
    resident, dirtying 2 (calm) and 30 (busy) MiB/s as the dirty-bitmap calculation read them;
    `check hosta hostb --guests --test-migration` measured the fast link at 962.9 Mb/s with 0.797 s
    of set-up, then `migrate-test --domain NAME --one-way` moved each: wall_s and libvirt's
    data_processed."""
    found = predict(256 * MIB, 239_075_328, dirty, 962.9, 300, setup_s=0.797)
    assert found.converges
    assert found.total_s == pytest.approx(wall_s, rel=0.05)
    assert found.data_bytes == pytest.approx(data_processed, rel=0.05)


def test_the_lab_hot_guest_does_not_converge():
    """hot dirties 200 MiB/s on the same link (114.8 MiB/s): a real migration of it was still
    sending after twice its RAM when migdoctor's --timeout aborted it."""
    assert not predict(256 * MIB, 239_075_328, 200, 962.9, 300, setup_s=0.797).converges


def test_a_dirty_rate_at_the_bandwidth_never_converges():
    """100 Mb/s is 11.9 MiB/s: a guest dirtying 12 MiB/s leaves more after each round."""
    found = predict(4 * GIB, 4 * GIB, 12, 100, 300)
    assert not found.converges
    assert math.isinf(found.total_s)
    assert "12.0 MiB/s, at or above the 11.9 MiB/s" in (found.reason or "")


def test_a_downtime_limit_it_never_fits_in():
    """Just under the bandwidth the pending data shrinks by 0.1 % a round: after MAX_ROUNDS
    rounds it is still far above what 300 ms carries."""
    found = predict(4 * GIB, 4 * GIB, 11.92, 100, 300)
    assert not found.converges and found.rounds == MAX_ROUNDS
    assert "still dirty" in (found.reason or "")


def test_a_raised_downtime_limit_lets_it_converge():
    """The same guest as above converges with a limit that holds what one round dirties."""
    assert predict(4 * GIB, 4 * GIB, 11.92, 100, 400_000).converges


def test_a_small_guest_stops_even_while_dirtying_faster_than_the_stream():
    """QEMU compares what is pending with the threshold first: a guest of 2 MiB fits in the
    300 ms a 100 Mb/s stream carries (3.75 MB) however fast it dirties."""
    assert predict(2 * MIB, 2 * MIB, 500, 100, 300).converges


def test_no_bandwidth_is_said():
    found = predict(GIB, GIB, 1, 0, 300)
    assert not found.converges and found.reason == "no bandwidth to migrate over"


figures = st.floats(allow_nan=True, allow_infinity=True) | st.integers(-(2**70), 2**70)


@given(figures, figures, figures, figures, figures)
def test_the_model_never_raises(memory, in_use, dirty, rate, limit):
    found = predict(memory, in_use, dirty, rate, limit)
    assert found.converges == (found.reason is None)
    assert found.data_bytes >= 0


@given(
    st.integers(1, 64 * GIB),
    st.floats(0, 1),
    st.floats(0, 2000),
    st.floats(0, 2000),
    st.floats(0.1, 10_000),
    st.floats(0, 30_000),
)
def test_totals_grow_with_the_dirty_rate(memory, share, dirty, more, rate, limit):
    """A guest that dirties more never migrates in less time or with less data."""
    low = predict(memory, int(memory * share), dirty, rate, limit)
    high = predict(memory, int(memory * share), dirty + more, rate, limit)
    assert high.total_s >= low.total_s
    assert high.data_bytes >= low.data_bytes or not high.converges
    assert low.converges or not high.converges
