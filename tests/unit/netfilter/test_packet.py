"""Packet refuses questions the evaluators could only answer wrongly."""

import pytest

from migdoctor.netfilter import Packet


@pytest.mark.parametrize(
    "fields",
    [
        {"family": "inet"},
        {"saddr": "2001:db8::1"},  # family ip, IPv6 source
        {"daddr": "not-an-address"},
        {"dport": 70000},
    ],
)
def test_invalid_packets_are_refused(fields):
    with pytest.raises(ValueError):
        Packet(**{"saddr": "192.0.2.1", "daddr": "192.0.2.2", "iifname": "mig0", "dport": 1, **fields})


def test_ipv6_packet():
    packet = Packet("2001:db8::1", "2001:db8::2", "mig0", 49152, "ip6")

    assert packet.address("daddr") == 0x20010DB8000000000000000000000002
