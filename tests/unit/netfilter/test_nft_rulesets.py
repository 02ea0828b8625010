"""evaluate_nft against rulesets loaded into a real kernel and dumped with `nft -j list ruleset`."""

import pytest

from migdoctor.netfilter import Decision, Packet, evaluate_nft, evaluate_port_range, nft_evaluator
from migdoctor.netfilter.host import host_evaluator

PEER, HOST = "198.51.100.7", "198.51.100.1"
STRANGER = "198.18.0.9"
PEER6, HOST6 = "2001:db8:100::7", "2001:db8:100::1"


def syn(
    dport: int, iifname: str = "mig0", saddr: str = PEER, daddr: str = HOST, return_route: bool | None = None
) -> Packet:
    family = "ip6" if ":" in saddr else "ip"
    return Packet(saddr=saddr, daddr=daddr, iifname=iifname, dport=dport, family=family, return_route=return_route)


def runs(ruleset: dict, template: Packet) -> list[tuple[int, int, str]]:
    found = evaluate_port_range(nft_evaluator(ruleset), template, 49152, 49215)
    return [(first, last, decision.verdict) for first, last, decision in found]


def test_accepts_migration_ports_only_on_the_migration_link(nft_dump):
    ruleset = nft_dump("inet-policy-drop")

    on_link = evaluate_nft(ruleset, syn(49160))
    off_link = evaluate_nft(ruleset, syn(49160, iifname="eth0"))

    assert on_link.verdict == "accept"
    assert on_link.rule == (
        'inet filter input handle 8: iifname "mig0" tcp dport 49152-49215 counter accept comment "qemu migration"'
    )
    assert on_link.reason == "accept by rule handle 8 of chain inet filter input"
    assert off_link == Decision("drop", None, "policy drop of chain inet filter input")


def test_established_rule_does_not_match_a_new_connection(nft_dump):
    decision = evaluate_nft(nft_dump("inet-policy-drop"), syn(5900, iifname="eth0"))

    assert decision.verdict == "drop"
    assert decision.rule is None


def test_loopback_and_ssh_are_accepted(nft_dump):
    ruleset = nft_dump("inet-policy-drop")

    assert 'iif "lo"' in str(evaluate_nft(ruleset, syn(49160, iifname="lo")).rule)
    assert evaluate_nft(ruleset, syn(22, iifname="eth0")).verdict == "accept"


@pytest.mark.parametrize(
    ("saddr", "dport", "verdict"),
    [
        (PEER, 49152, "accept"),
        (PEER, 16514, "accept"),
        (PEER, 16515, "drop"),
        ("203.0.113.10", 49215, "accept"),  # a single address in the interval set
        ("203.0.113.11", 49215, "drop"),
        (PEER6, 49152, "drop"),  # `ip saddr @set` never matches an IPv6 packet
    ],
)
def test_named_interval_sets(nft_dump, saddr, dport, verdict):
    daddr = HOST6 if ":" in saddr else HOST
    decision = evaluate_nft(nft_dump("named-interval-set"), syn(dport, saddr=saddr, daddr=daddr))

    assert decision.verdict == verdict
    if verdict == "accept":
        assert "ip saddr @migration_peers tcp dport @migration_ports" in str(decision.rule)


@pytest.mark.parametrize(
    ("iifname", "dport", "verdict"),
    [
        ("mig7", 49200, "accept"),  # "mig*" wildcard
        ("bond0", 16509, "accept"),
        ("bond1", 49200, "drop"),
        ("eth0", 5901, "accept"),
        ("eth0", 6000, "drop"),
    ],
)
def test_anonymous_sets(nft_dump, iifname, dport, verdict):
    assert evaluate_nft(nft_dump("anonymous-set"), syn(dport, iifname)).verdict == verdict


def test_jump_into_user_chain_accepts_peers(nft_dump):
    decision = evaluate_nft(nft_dump("jump-return"), syn(49160))

    assert decision.verdict == "accept"
    assert decision.reason == "accept by rule handle 4 of chain inet filter migration"


def test_return_resumes_after_the_jump(nft_dump):
    decision = evaluate_nft(nft_dump("jump-return"), syn(49160, saddr=STRANGER))

    assert decision.verdict == "reject"
    assert decision.rule == ("inet filter input handle 7: tcp dport 49152-49215 reject with tcp reset")


def test_goto_falls_back_to_the_base_chain_policy(nft_dump):
    ruleset = nft_dump("goto")

    assert evaluate_nft(ruleset, syn(49160)).reason == ("accept by rule handle 3 of chain inet filter mig_in")
    # on mig0 the catch-all accept after the goto is never reached
    assert evaluate_nft(ruleset, syn(5900)) == Decision("drop", None, "policy drop of chain inet filter input")
    assert evaluate_nft(ruleset, syn(5900, iifname="eth0")).verdict == "accept"


@pytest.mark.parametrize(
    ("saddr", "daddr", "verdict"),
    [
        (PEER, HOST, "accept"),
        ("198.51.101.7", HOST, "drop"),
        (PEER6, HOST6, "accept"),
        ("2001:db8:101::7", HOST6, "drop"),
    ],
)
def test_source_prefixes(nft_dump, saddr, daddr, verdict):
    decision = evaluate_nft(nft_dump("saddr-prefix"), syn(49160, saddr=saddr, daddr=daddr))

    assert decision.verdict == verdict


def test_partially_open_range_splits_in_two(nft_dump):
    found = evaluate_port_range(nft_evaluator(nft_dump("partial-range")), syn(0), 49152, 49215)

    assert [(first, last, d.verdict) for first, last, d in found] == [
        (49152, 49199, "accept"),
        (49200, 49215, "reject"),
    ]
    assert found[1][2].rule == ("inet filter input handle 4: tcp dport 49200-49215 reject with tcp reset")


def test_drop_in_another_table_wins(nft_dump):
    ruleset = nft_dump("two-tables")

    assert runs(ruleset, syn(0)) == [(49152, 49199, "accept"), (49200, 49215, "drop")]
    assert evaluate_nft(ruleset, syn(49200)).rule == ("ip guard input handle 2: tcp dport 49200-49215 drop")
    # the ip table does not see IPv6
    assert runs(ruleset, syn(0, saddr=PEER6, daddr=HOST6)) == [(49152, 49215, "accept")]


def test_unsupported_expression_makes_the_verdict_unknown(nft_dump):
    ruleset = nft_dump("unsupported")

    assert runs(ruleset, syn(0)) == [(49152, 49199, "accept"), (49200, 49215, "unknown")]
    decision = evaluate_nft(ruleset, syn(49200))
    assert decision.rule == "inet filter input handle 7: meta mark 1337 accept"
    assert decision.reason == "expression 'meta mark' not understood"


def test_reverse_path_filter_behind_a_failing_match_is_harmless(nft_dump):
    # the rpfilter rule is guarded by `meta nfproto ipv6`; for IPv6 the route back decides it
    ruleset = nft_dump("unsupported")

    assert evaluate_nft(ruleset, syn(49160)).verdict == "accept"
    decision = evaluate_nft(ruleset, syn(49160, saddr=PEER6, daddr=HOST6))
    assert decision.verdict == "unknown"
    assert decision.rule is not None and decision.rule.startswith("inet filter prerouting")
    assert decision.reason.startswith("a reverse-path filter asks whether the route back to the source leaves by")
    back_by_the_link = syn(49160, saddr=PEER6, daddr=HOST6, return_route=True)
    back_elsewhere = syn(49160, saddr=PEER6, daddr=HOST6, return_route=False)
    assert evaluate_nft(ruleset, back_by_the_link).verdict == "accept"
    assert evaluate_nft(ruleset, back_elsewhere).rule.startswith("inet filter prerouting")
    assert evaluate_nft(ruleset, back_elsewhere).verdict == "drop"


def test_drop_after_an_unknown_chain_is_still_final(nft_dump):
    ruleset = nft_dump("doubt-then-drop")

    assert runs(ruleset, syn(0)) == [(49152, 49199, "unknown"), (49200, 49215, "drop")]


def test_verdict_maps(nft_dump):
    ruleset = nft_dump("vmap")

    assert runs(ruleset, syn(0)) == [(49152, 49199, "accept"), (49200, 49215, "drop")]
    assert evaluate_nft(ruleset, syn(49200)).rule == ("inet filter mig0_in handle 12: tcp dport vmap @mig_ports")
    assert evaluate_nft(ruleset, syn(16514)).verdict == "accept"
    assert evaluate_nft(ruleset, syn(22, iifname="eth0")).verdict == "accept"
    assert evaluate_nft(ruleset, syn(5900, iifname="eth0")).verdict == "accept"
    assert evaluate_nft(ruleset, syn(5900, "eth0", saddr=STRANGER)).verdict == "drop"
    assert evaluate_nft(ruleset, syn(49160, iifname="lo")).verdict == "accept"


def test_prerouting_filters_and_ignored_chains_are_reported(nft_dump):
    ruleset = nft_dump("prerouting-and-ignored")

    dropped = evaluate_nft(ruleset, syn(49160, saddr="192.0.2.5"))
    passed = evaluate_nft(ruleset, syn(49160))
    passed6 = evaluate_nft(ruleset, syn(49160, saddr=PEER6, daddr=HOST6))

    assert dropped.rule == "inet filter prerouting handle 3: ip saddr 192.0.2.0/24 drop"
    assert passed.verdict == "accept"
    assert passed.reason == (
        "policy accept of chain inet filter input; not evaluated: netdev edge ingress"
        " (netdev family), bridge br_filter input (bridge family)"
    )
    assert passed6.verdict == "accept"
    # the nat chain is walked: its dnat may send that connection elsewhere
    redirected = evaluate_nft(ruleset, syn(8080))
    assert (redirected.verdict, redirected.rule) == ("unknown", "ip nat prerouting handle 2: tcp dport 8080 dnat")
    assert redirected.reason.startswith("dnat may send the connection elsewhere; not evaluated: netdev edge")


def test_debian_default_accepts_everything(nft_dump):
    assert evaluate_nft(nft_dump("debian-default"), syn(49160)) == Decision(
        "accept", None, "policy accept of chain inet filter input"
    )


def test_empty_ruleset_accepts():
    decision = evaluate_nft({"nftables": []}, syn(49160))

    assert decision == Decision("accept", None, "no nftables base chain filters ip packets to this host")


def test_iptables_nft_rules_without_iptables_nft_save_are_a_doubt(nft_dump):
    ruleset = nft_dump("iptables-nft")

    decision = evaluate_nft(ruleset, syn(49160))
    assert decision.verdict == "unknown"
    assert decision.rule == 'ip filter INPUT handle 5: xt match "conntrack" counter accept'
    assert decision.reason.endswith("and no iptables-nft-save output of its table was collected")
    # iptables-nft's ip table does not filter IPv6
    assert evaluate_nft(ruleset, syn(49160, saddr=PEER6, daddr=HOST6)).verdict == "accept"


def test_iptables_nft_rules_are_read_from_iptables_nft_save(nft_dump, iptables_dump):
    """The same table with the iptables-nft-save text it was loaded from: judged, port by port."""
    firewall = {
        "sources": [
            {"command": "nft -j list ruleset", "kind": "nftables", "ruleset": nft_dump("iptables-nft")},
            {"command": "iptables-nft-save", "kind": "iptables-nft", "family": "ip", "save": iptables_dump("basic")},
        ],
        "unread": [],
        "firewalld": None,
    }

    runs = evaluate_port_range(host_evaluator(firewall), syn(0), 49152, 49216)

    assert [(first, last, d.verdict) for first, last, d in runs] == [
        (49152, 49199, "accept"),
        (49200, 49215, "reject"),
        (49216, 49216, "drop"),
    ]
    assert runs[1][2].rule == (
        "ip filter INPUT rule 6: -A INPUT -i mig0 -p tcp -m tcp --dport 49200:49215 -j REJECT --reject-with tcp-reset"
    )


@pytest.mark.parametrize(
    ("packet", "verdict", "chain"),
    [
        (syn(49160), "accept", "inet filter migration"),
        (syn(49160, iifname="bond1"), "accept", "inet filter migration"),
        (syn(49160, iifname="eth0"), "reject", "inet filter input"),
        (syn(49160, saddr="10.10.0.5"), "reject", "inet filter input"),
        (syn(49160, saddr="203.0.113.5"), "drop", "inet filter input"),  # blocklist
        (syn(22, "eth0", saddr="192.0.2.9"), "accept", "inet filter services"),
        (syn(22, "eth0", saddr=STRANGER), "reject", "inet filter input"),
        (syn(445, "eth0", saddr="10.10.0.5"), "drop", "inet filter input"),
        (syn(7100, iifname="storage1"), "accept", "inet filter input"),
    ],
)
def test_busy_host_firewall(nft_dump, packet, verdict, chain):
    decision = evaluate_nft(nft_dump("host-50-rules"), packet)

    assert (decision.verdict, str(decision.rule).split(" handle ")[0]) == (verdict, chain)


def test_missing_jump_target_is_unknown(nft_dump):
    ruleset = nft_dump("jump-return")
    ruleset["nftables"] = [item for item in ruleset["nftables"] if item.get("chain", {}).get("name") != "migration"]

    decision = evaluate_nft(ruleset, syn(49160))

    assert decision.verdict == "unknown"
    assert decision.reason == "jump target chain 'migration' is missing"


def test_jump_loop_is_unknown_not_endless(nft_dump):
    ruleset = nft_dump("jump-return")
    for item in ruleset["nftables"]:
        if item.get("rule", {}).get("chain") == "migration":
            item["rule"]["expr"] = [{"jump": {"target": "migration"}}]

    decision = evaluate_nft(ruleset, syn(49160))

    assert decision.verdict == "unknown"
    assert decision.reason == "jumps nest deeper than 16 chains"


def test_dormant_tables_are_skipped(nft_dump):
    ruleset = nft_dump("two-tables")
    for item in ruleset["nftables"]:
        if item.get("table", {}).get("name") == "guard":
            item["table"]["flags"] = ["dormant"]

    assert runs(ruleset, syn(0)) == [(49152, 49215, "accept")]


def test_missing_named_set_is_unknown(nft_dump):
    ruleset = nft_dump("named-interval-set")
    ruleset["nftables"] = [item for item in ruleset["nftables"] if "set" not in item]

    decision = evaluate_nft(ruleset, syn(49160))

    assert decision.verdict == "unknown"
    assert decision.reason == "set '@migration_peers' is missing from the ruleset"


def test_rejects_input_that_is_not_nft_json():
    with pytest.raises(ValueError, match="nftables"):
        evaluate_nft({"tables": []}, syn(49160))
