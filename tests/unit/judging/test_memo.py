"""What a fleet's judging computes once: per read-only facts record, per pair being judged."""

from __future__ import annotations

import pytest

from migdoctor.checkapi import Skip
from migdoctor.frozen import freeze
from migdoctor.judging.facts import read_only_memo
from migdoctor.judging.pair import Intent, MigrationNetwork, Pair, per_pair

INTENT = Intent(MigrationNetwork.parse("198.51.100.0/24"), "--migration-network", False)


def pair_of(src: dict, dst: dict) -> Pair:
    return Pair("hosta", "hostb", src, dst, INTENT)


def test_a_pairs_answer_is_computed_once_and_again_for_the_next_pair():
    calls = []

    @per_pair
    def name(pair):
        calls.append(pair)
        return pair.dst["name"]

    first, second = pair_of({}, {"name": "one"}), pair_of({}, {"name": "two"})

    assert [name(first), name(first), name(second), name(second)] == ["one", "one", "two", "two"]
    assert calls == [first, second]


def test_a_pairs_skip_is_raised_to_every_check_that_asks():
    calls = []

    @per_pair
    def endpoints(pair):
        calls.append(pair)
        raise Skip(f"{pair.dst_label} has no address on the migration network")

    pair = pair_of({}, {})
    for _ in range(3):
        with pytest.raises(Skip, match="hostb has no address"):
            endpoints(pair)
    assert len(calls) == 1


def test_only_read_only_records_are_remembered():
    calls = []

    @read_only_memo
    def hostname(facts):
        calls.append(facts)
        return facts["name"]

    frozen, plain = freeze({"name": "hostb"}), {"name": "hostc"}

    assert [hostname(frozen), hostname(frozen), hostname(plain), hostname(plain)] == ["hostb"] * 2 + ["hostc"] * 2
    assert calls == [frozen, plain, plain]  # a plain dict may change between calls: asked every time
