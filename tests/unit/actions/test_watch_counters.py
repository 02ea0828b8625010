"""`watch` names the carrying link from the counters its far side streams: the link whose counter
moved most between the first sample and the latest, through the same helper as the probe and
the test migration; an answer that is not a counters record is passed over."""

import threading
from typing import Any

from migdoctor.actions.watch import CounterStream


class Samples:
    """A far side's `link-counters-follow` stream: the answers given, then the end of the stream."""

    def __init__(self, answers: list[Any]) -> None:
        self.answers, self.done = answers, threading.Event()

    def __iter__(self):
        yield from self.answers
        self.done.set()

    def close(self) -> None:
        pass


class Streaming:
    label = "hosta"

    def __init__(self, answers: list[Any]) -> None:
        self.samples = Samples(answers)

    def stream(self, name: str, **args: Any) -> Samples:
        assert name == "link-counters-follow"
        return self.samples


def counters(lan: int, fast: int) -> dict[str, dict[str, int]]:
    return {
        "lo": {"rx_bytes": 0, "tx_bytes": 10 * fast},
        "a-lan": {"rx_bytes": lan, "tx_bytes": lan},
        "a-fast": {"rx_bytes": 0, "tx_bytes": fast},
    }


def followed(answers: list[Any]) -> CounterStream:
    host = Streaming(answers)
    stream = CounterStream(host, interval=0.01)
    assert host.samples.done.wait(5)
    return stream


def test_the_link_that_moved_most_since_the_first_sample_carried_the_migration() -> None:
    stream = followed([counters(5_000_000_000, 0), "not counters", counters(5_000_001_000, 30_000_000)])

    assert stream.carrier("tx_bytes") == ("a-fast", 30_000_000)


def test_a_stream_that_gave_no_counters_names_no_link() -> None:
    assert followed(["not counters", {"hello": 1}]).carrier("tx_bytes") == (None, 0)
