"""evaluate_iptables against iptables-save output of rules loaded with iptables-restore."""

from dataclasses import replace

import pytest

from migdoctor.netfilter import (
    Decision,
    Packet,
    evaluate_iptables,
    evaluate_port_range,
    iptables_evaluator,
)

PEER, HOST, STRANGER = "198.51.100.7", "198.51.100.1", "198.18.0.9"


def syn(dport: int, iifname: str = "mig0", saddr: str = PEER, daddr: str = HOST) -> Packet:
    family = "ip6" if ":" in saddr else "ip"
    return Packet(saddr=saddr, daddr=daddr, iifname=iifname, dport=dport, family=family)


def runs(save_text: str, template: Packet, last: int = 49216) -> list[tuple[int, int, str]]:
    found = evaluate_port_range(iptables_evaluator(save_text), template, 49152, last)
    return [(first, last, decision.verdict) for first, last, decision in found]


def test_split_range_on_the_migration_link(iptables_dump):
    save_text = iptables_dump("basic")

    assert runs(save_text, syn(0)) == [
        (49152, 49199, "accept"),
        (49200, 49215, "reject"),
        (49216, 49216, "drop"),
    ]
    assert evaluate_iptables(save_text, syn(49200)) == Decision(
        "reject",
        "iptables filter INPUT rule 6: -A INPUT -i mig0 -p tcp -m tcp --dport 49200:49215 -j REJECT --reject-with tcp-reset",
        "reject by rule 6 of chain iptables filter INPUT",
    )
    assert evaluate_iptables(save_text, syn(49152, iifname="eth0")) == Decision(
        "drop", None, "policy drop of chain iptables filter INPUT"
    )


def test_source_mask_applies(iptables_dump):
    assert runs(iptables_dump("basic"), syn(0, saddr=STRANGER)) == [
        (49152, 49199, "drop"),
        (49200, 49215, "reject"),
        (49216, 49216, "drop"),
    ]


@pytest.mark.parametrize(
    ("packet", "rule_number"),
    [
        (syn(22, iifname="eth0"), 4),  # multiport, with a quoted comment
        (syn(16514, iifname="eth0"), 4),
        (syn(5999, iifname="eth0"), 7),  # -m state --state NEW
        (syn(49300, iifname="lo"), 1),
    ],
)
def test_accepting_rules(iptables_dump, packet, rule_number):
    decision = evaluate_iptables(iptables_dump("basic"), packet)

    assert decision.verdict == "accept"
    assert decision.reason == f"accept by rule {rule_number} of chain iptables filter INPUT"


def test_jump_return_and_wildcard_interface(iptables_dump):
    save_text = iptables_dump("chains")

    accepted = evaluate_iptables(save_text, syn(49160, iifname="eth1"))
    returned = evaluate_iptables(save_text, syn(49160, iifname="eth1", saddr=STRANGER))

    assert accepted.reason == "accept by rule 2 of chain iptables filter MIGRATION"
    assert returned.rule == ("iptables filter INPUT rule 5: -A INPUT -p tcp -m tcp --dport 49152:49215 -j DROP")


def test_goto_returns_to_the_policy(iptables_dump):
    # bond+ goes to MIG_LINK; when MIG_LINK ends, the DROP after the goto is skipped
    assert runs(iptables_dump("chains"), syn(0, iifname="bond0")) == [
        (49152, 49215, "accept"),
        (49216, 49216, "reject"),
    ]
    assert evaluate_iptables(iptables_dump("chains"), syn(49160, "bond0")).rule is None


def test_unknown_match_and_target_name_the_rule(iptables_dump):
    save_text = iptables_dump("unknown")
    found = evaluate_port_range(iptables_evaluator(save_text), syn(0), 49152, 49216)

    assert [(first, last, d.verdict) for first, last, d in found] == [
        (49152, 49199, "accept"),
        (49200, 49215, "unknown"),
        (49216, 49216, "unknown"),
    ]
    assert found[1][2].rule is not None and "-m recent" in found[1][2].rule
    assert found[1][2].reason == "match '-m recent' not understood"
    assert found[2][2].reason == "target 'NFQUEUE' not understood"


def test_log_target_never_decides(iptables_dump):
    # "-m limit ... -j LOG" cannot be judged, but it only logs: the policy decides
    decision = evaluate_iptables(iptables_dump("unknown"), syn(22))

    assert decision.verdict == "drop"
    assert decision.rule is None


def test_ip6tables(iptables_dump):
    save_text = iptables_dump("ip6tables")
    host = "2001:db8:100::1"

    assert runs(save_text, syn(0, saddr="2001:db8:100::7", daddr=host)) == [
        (49152, 49215, "accept"),
        (49216, 49216, "reject"),
    ]
    assert runs(save_text, syn(0, saddr="2001:db8:200::7", daddr=host)) == [(49152, 49216, "reject")]


def test_option_variants(iptables_dump):
    save_text = iptables_dump("options")

    # "! --tcp-flags FIN,SYN,RST,ACK SYN", "-f", "--dst-type BROADCAST,MULTICAST" and "! -p tcp"
    # all fail for a SYN to this host, so the multiport rule decides
    assert runs(save_text, syn(0)) == [
        (49152, 49199, "accept"),
        (49200, 49215, "unknown"),  # --sport: the source port is not known
        (49216, 49216, "drop"),
    ]
    assert evaluate_iptables(save_text, syn(49160, iifname="eth0")).reason == (
        "drop by rule 7 of chain iptables filter INPUT"
    )
    assert evaluate_iptables(save_text, syn(16509)).reason == ("option '--limit-iface-in' not understood")
    assert evaluate_iptables(save_text, syn(80, daddr="192.0.2.1")).verdict == "reject"


def test_counters_of_iptables_save_c_are_ignored(iptables_dump):
    plain = iptables_dump("basic")
    counted = "\n".join(f"[3:180] {line}" if line.startswith("-A") else line for line in plain.splitlines())

    assert runs(counted, syn(0)) == runs(plain, syn(0))


def test_nat_table_is_walked_and_its_dnat_is_a_doubt(iptables_dump):
    """docker's DNAT of 8080 may send that connection to a container; other ports pass the nat
    table, and without a filter table nothing drops them."""
    nat_only = "*nat" + iptables_dump("unknown").split("*nat")[1]

    assert evaluate_iptables(nat_only, syn(49160)) == Decision(
        "accept", None, "policy accept of chain iptables nat PREROUTING"
    )
    assert evaluate_iptables(nat_only, syn(8080, iifname="eth0")) == Decision(
        "unknown",
        "iptables nat DOCKER rule 2: -A DOCKER ! -i docker0 -p tcp -m tcp --dport 8080 -j DNAT --to-destination "
        "172.17.0.2:80",
        "DNAT may send the connection elsewhere",
    )


def test_rejects_text_that_is_not_iptables_save():
    with pytest.raises(ValueError, match="line 1"):
        evaluate_iptables("Chain INPUT (policy ACCEPT)", syn(49160))


def test_rpfilter_is_judged_from_the_route_back():
    """`-m rpfilter --invert -j DROP` (firewalld's iptables backend, many hand-written rulesets)
    drops what arrives on a link the route back does not leave by; unanswered, it is a doubt."""
    save_text = "*raw\n:PREROUTING ACCEPT [0:0]\n-A PREROUTING -m rpfilter --invert -j DROP\nCOMMIT\n"
    packet = syn(49160)

    assert evaluate_iptables(save_text, replace(packet, return_route=True)).verdict == "accept"
    assert evaluate_iptables(save_text, replace(packet, return_route=False)) == Decision(
        "drop",
        "iptables raw PREROUTING rule 1: -A PREROUTING -m rpfilter --invert -j DROP",
        "drop by rule 1 of chain iptables raw PREROUTING",
    )
    assert evaluate_iptables(save_text, packet).reason.startswith("a reverse-path filter asks")
    loose = save_text.replace("--invert", "--loose --invert")
    assert evaluate_iptables(loose, replace(packet, return_route=False)).verdict == "unknown"


def test_a_doubtful_jump_to_a_chain_that_only_logs_changes_nothing():
    """ufw's pattern: `-m limit ... -j ufw-logging-deny`, a chain of LOG and RETURN rules. The
    limit cannot be judged, but whatever it decides, the packet comes back to the next rule."""
    save_text = (
        "*filter\n:INPUT DROP [0:0]\n:log-only - [0:0]\n:log-drop - [0:0]\n"
        "-A INPUT -p tcp -m limit --limit 3/min -j log-only\n"
        "-A INPUT -p tcp --dport 49152:49215 -j ACCEPT\n"
        "-A INPUT -p tcp -m limit --limit 3/min -j log-drop\n"
        '-A log-only -m limit --limit 3/min -j LOG --log-prefix "[LOG ONLY] "\n-A log-only -j RETURN\n'
        "-A log-drop -j LOG\n-A log-drop -j DROP\nCOMMIT\n"
    )

    assert runs(save_text, syn(0), 49216) == [(49152, 49215, "accept"), (49216, 49216, "unknown")]
