"""The port probe's listener measures the migration network's bandwidth: the median rate of short
slices once the stream is steady, so a moment either host spends without the CPU does not count."""

import pytest

from migdoctor.farside import probe

CHUNK = 1 << 16


class Arrivals:
    """A connection whose reads return CHUNK bytes at the given times (a clock the test drives)."""

    def __init__(self, times):
        self.times = list(times)
        self.now = 0.0

    def recv(self, _size):
        if not self.times:
            return b""
        self.now = self.times.pop(0)
        return bytes(CHUNK)

    def monotonic(self):
        return self.now


def steady_stream(mbps, seconds, stall_at=None, stall_s=0.0):
    """Read times of a stream at MBPS for SECONDS, the sender pausing STALL_S at STALL_AT."""
    gap = CHUNK * 8 / (mbps * 1e6)
    times, t = [], 0.0
    while t < seconds:
        times.append(t)
        t += gap
        if stall_at is not None and times[-2:-1] and times[-2] < stall_at <= t:
            t += stall_s
    return times


@pytest.fixture
def clocked(monkeypatch):
    def make(times):
        connection = Arrivals(times)
        monkeypatch.setattr(probe.time, "monotonic", connection.monotonic)
        return connection

    return make


def test_the_steady_rate_is_measured_after_the_warm_up(clocked):
    received, steady = probe.receive(clocked(steady_stream(950, 0.6)))

    assert steady["steady_mbps"] == pytest.approx(950, rel=0.01)
    assert steady["steady_s"] == pytest.approx(0.6 - probe.WARMUP_S, abs=probe.SLICE_S)
    assert 0 < steady["steady_bytes"] < received


def test_a_sender_that_pauses_does_not_lower_the_bandwidth(clocked):
    """A 60 ms pause in a 0.6 s sample: the mean over the window would say ~10 % less."""
    received, steady = probe.receive(clocked(steady_stream(950, 0.6, stall_at=0.35, stall_s=0.06)))

    assert steady["steady_bytes"] * 8 / steady["steady_s"] / 1e6 < 900  # what a plain mean says
    assert steady["steady_mbps"] == pytest.approx(950, rel=0.01)


def test_a_sample_too_short_to_be_steady_measures_no_bandwidth(clocked):
    _, steady = probe.receive(clocked(steady_stream(950, probe.WARMUP_S)))

    assert steady == {"steady_mbps": None, "steady_bytes": 0, "steady_s": 0.0}
