"""evaluate_port_range over every captured dump: the runs tile the range exactly."""

import json
from collections.abc import Callable

import pytest

from migdoctor.netfilter import (
    Decision,
    Packet,
    evaluate_port_range,
    iptables_evaluator,
    nft_evaluator,
)
from migdoctor.netfilter.engine import PACKET_FIELDS, constant, fields_read, reading
from migdoctor.netfilter.model import VERDICTS
from migdoctor.netfilter.nft import port_bounds

TEMPLATES = [
    Packet("198.51.100.7", "198.51.100.1", "mig0", 0),
    Packet("198.18.0.9", "198.51.100.1", "eth0", 0),
    Packet("10.10.0.5", "198.51.100.1", "bond1", 0),
    Packet("2001:db8:100::7", "2001:db8:100::1", "mig0", 0, "ip6"),
]
RANGES = [(49152, 49215), (49100, 49300), (16500, 16520), (22, 22), (65500, 65535)]


def assert_tiles(evaluate: Callable[[Packet], Decision], template: Packet) -> None:
    for first, last in RANGES:
        found = evaluate_port_range(evaluate, template, first, last)

        assert found[0][0] == first and found[-1][1] == last
        for (_, end, decision), (start, _, following) in zip(found, found[1:], strict=False):
            assert start == end + 1, "runs must leave no gap and not overlap"
            assert decision != following, "neighbouring runs must differ"
        for start, end, decision in found:
            assert start <= end and decision.verdict in VERDICTS
            for port in (start, end):
                assert evaluate(Packet(**{**vars(template), "dport": port})) == decision


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda t: f"{t.family}-{t.iifname}")
def test_nft_runs_tile_the_range(nft_dump, nft_name, template):
    assert_tiles(nft_evaluator(nft_dump(nft_name)), template)


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda t: f"{t.family}-{t.iifname}")
def test_iptables_runs_tile_the_range(iptables_dump, iptables_name, template):
    assert_tiles(iptables_evaluator(iptables_dump(iptables_name)), template)


def test_single_port_range():
    decision = Decision("accept", None, "policy accept of chain t")

    assert evaluate_port_range(lambda _p: decision, TEMPLATES[0], 80, 80) == [(80, 80, decision)]


@pytest.mark.parametrize(("first", "last"), [(10, 9), (-1, 5), (65535, 65536)])
def test_bad_ranges_are_refused(first, last):
    with pytest.raises(ValueError, match="port range"):
        evaluate_port_range(lambda _p: Decision("accept", None, ""), TEMPLATES[0], first, last)


def port_by_port(evaluate: Callable[[Packet], Decision]) -> Callable[[Packet], Decision]:
    """The same evaluator without its port_bounds: asked at every port."""
    return lambda packet: evaluate(packet)


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda t: f"{t.family}-{t.iifname}")
def test_asking_only_where_a_rule_names_a_port_finds_the_runs_port_by_port_finds(
    nft_dump, nft_name, iptables_dump, iptables_name, template
):
    for evaluate in (nft_evaluator(nft_dump(nft_name)), iptables_evaluator(iptables_dump(iptables_name))):
        assert evaluate.port_bounds is not None  # type: ignore[attr-defined]
        for first, last in [*RANGES, (0, 2000), (49000, 50000)]:
            bounded = evaluate_port_range(evaluate, template, first, last)
            assert bounded == evaluate_port_range(port_by_port(evaluate), template, first, last)


def test_a_rule_computing_on_the_port_is_asked_at_every_port():
    masked = {"match": {"left": {"&": [{"payload": {"protocol": "tcp", "field": "dport"}}, 255]}, "right": 1}}
    flags = {"match": {"left": {"&": [{"payload": {"protocol": "tcp", "field": "flags"}}, 2]}, "right": 2}}

    assert port_bounds({"rule": [{"expr": [masked]}], "set": [], "map": []}) is None
    assert port_bounds({"rule": [{"expr": [flags]}], "set": [], "map": []}) == {2, 3}


SOURCES = ["198.51.100.7", "198.51.100.8", "203.0.113.9", "10.10.0.5", "192.0.2.200"]


@pytest.mark.parametrize("template", TEMPLATES[:3], ids=lambda t: f"{t.family}-{t.iifname}")
def test_sources_alike_in_every_field_the_rules_read_share_one_judgement_and_only_they(
    nft_dump, nft_name, iptables_dump, iptables_name, template
):
    """A fleet's sources into one host: the remembered runs are the runs judged afresh, whether
    or not the ruleset reads the source address."""
    for evaluate in (nft_evaluator(nft_dump(nft_name)), iptables_evaluator(iptables_dump(iptables_name))):
        for saddr in SOURCES:
            packet = Packet(**{**vars(template), "saddr": saddr})
            for first, last in RANGES:
                remembered = evaluate_port_range(evaluate, packet, first, last)
                assert remembered == evaluate_port_range(port_by_port(evaluate), packet, first, last)
        shared = "saddr" not in evaluate.reads  # type: ignore[attr-defined]
        assert len(evaluate.judged) == len(RANGES) * (1 if shared else len(SOURCES))  # type: ignore[attr-defined]


def test_a_ruleset_reads_the_source_address_exactly_when_a_rule_matches_it(nft_dump, nft_name):
    """(fib saddr . iif reads the answer the check puts in the packet, return_route, not saddr.)"""
    ruleset = nft_dump(nft_name)
    reads = nft_evaluator(ruleset).reads  # type: ignore[attr-defined]
    assert ("saddr" in reads) == ('"field": "saddr"' in json.dumps(ruleset))
    assert {"family"} <= reads <= PACKET_FIELDS


def test_an_unmarked_step_reads_every_field():
    assert fields_read([constant(True), lambda packet: packet.saddr == "x"]) == PACKET_FIELDS
    assert fields_read([constant(True), reading({"iifname"}, lambda packet: packet.iifname == "x")]) == {"iifname"}
