"""The path MTU probe's pure parts: the search for the largest size, the ICMP it sends and reads."""

import struct

import pytest

from migdoctor.farside.pmtu import checksum, echo_request, icmp_answer, largest_through


class Path:
    """A path that passes packets up to LIMIT bytes, probed BATCH sizes per round."""

    def __init__(self, limit, batch):
        self.limit, self.batch, self.rounds = limit, batch, []

    def through(self, sizes):
        self.rounds.append(sizes)
        return {size for size in sizes if size <= self.limit}


@pytest.mark.parametrize(("batch", "most_rounds"), [(32, 2 + 3), (1, 2 + 14)], ids=["icmp", "tcp"])
@pytest.mark.parametrize(("limit", "largest"), [(9000, 9000), (1500, 1500), (8972, 8972), (577, 577), (100, None)])
def test_largest_size_through(limit, largest, batch, most_rounds):
    path = Path(limit, batch)

    assert largest_through(path, 576, 9000) == largest
    assert len(path.rounds) <= most_rounds
    assert all(len(sizes) <= batch for sizes in path.rounds)


def test_full_size_passing_costs_one_packet():
    path = Path(9000, 32)

    largest_through(path, 576, 9000)

    assert path.rounds == [[9000]]


def test_echo_request_is_the_size_asked_with_a_valid_checksum():
    packet = echo_request(4, 0x1234, 7, 1500)

    assert len(packet) == 1500 - 20  # the kernel adds the 20-byte IPv4 header
    assert checksum(packet) == 0  # a correct checksum sums to zero
    assert struct.unpack("!BBxxHH", packet[:8]) == (8, 0, 0x1234, 7)
    assert len(echo_request(6, 1, 1, 1280)) == 1280 - 40


def test_replies_and_fragmentation_needed_are_told_apart():
    reply = struct.pack("!BBHHH", 0, 0, 0, 0x1234, 7)
    ip_header = bytes([0x45]) + bytes(19)
    needed = struct.pack("!BBHHH", 3, 4, 0, 0, 1500) + bytes(28)
    too_big6 = struct.pack("!BBHI", 2, 0, 0, 1280) + bytes(40)

    assert icmp_answer(4, True, ip_header + reply, 7) == ("reply", None)
    assert icmp_answer(4, True, ip_header + reply, 8) is None
    assert icmp_answer(4, False, reply, 7) == ("reply", None)
    assert icmp_answer(4, True, ip_header + needed, 7) == ("too-big", 1500)
    assert icmp_answer(6, True, too_big6, 7) == ("too-big", 1280)
