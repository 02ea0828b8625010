"""Judging a fleet's pairs in one worker: a check of the destination alone is judged once per
destination and its finding is the one a pair-by-pair judgement gives."""

import dataclasses

from migdoctor.checkapi import Check, passed
from migdoctor.engine import discover, run_check
from migdoctor.frozen import freeze
from migdoctor.judging.pair import Intent, MigrationNetwork, Pair, TrialTerms
from migdoctor.run.judge import in_this_process

INTENT = Intent(MigrationNetwork.parse("198.51.100.0/24"), "--migration-network", False)


def fleet_pairs(fleet_facts, intent=INTENT):
    frozen = {label: freeze(facts) for label, facts in fleet_facts.items()}
    return [
        Pair(src, dst, frozen[src], frozen[dst], intent)
        for src, dst in [("kvm1", "kvm3"), ("kvm2", "kvm3"), ("kvm1", "kvm2"), ("kvm3", "kvm2")]
    ]


def test_a_check_of_the_destination_alone_runs_once_per_destination(fleet_facts):
    asked = []

    def counted(pair):
        asked.append(pair.dst_label)
        return passed(f"{pair.dst_label} is fine")

    check = Check("site.counted", "Counted", "low", ("dst.links",), counted, scope="destination")
    pairs = fleet_pairs(fleet_facts)

    findings = [in_this_process([check], pair, set())[0] for pair in pairs]

    assert asked == ["kvm3", "kvm2"]
    assert [finding.summary for finding in findings] == ["kvm3 is fine"] * 2 + ["kvm2 is fine"] * 2
    other_network = MigrationNetwork.parse("192.0.2.0/24")
    other_intent = fleet_pairs(fleet_facts, dataclasses.replace(INTENT, migration_network=other_network))[0]
    in_this_process([check], other_intent, set())
    assert asked == ["kvm3", "kvm2", "kvm3"]  # the intent is part of what it judges
    in_this_process([check], dataclasses.replace(pairs[0], trial_terms=TrialTerms(tls=True)), set())
    assert asked == ["kvm3", "kvm2", "kvm3", "kvm3"]  # and so are the test migration's terms


def test_the_built_in_destination_checks_give_every_pair_the_finding_judged_pair_by_pair(fleet_facts):
    checks = [check for check in discover() if check.scope == "destination"]
    assert {check.id for check in checks} >= {"listen.migration-address", "config.migration-port-range"}

    for pair in fleet_pairs(fleet_facts):
        remembered = in_this_process(checks, pair, set())
        afresh = [run_check(check, pair, set()) for check in checks]
        assert [dataclasses.replace(f, duration_s=0) for f in remembered] == [
            dataclasses.replace(f, duration_s=0) for f in afresh
        ], (pair.src_label, pair.dst_label)
