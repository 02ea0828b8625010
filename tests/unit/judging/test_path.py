"""predict_path / describe_path: the one line answering the forum thread, from the captured facts."""

import pytest

from migdoctor.judging.facts import name_lookup, route_to
from migdoctor.judging.pair import Intent, MigrationNetwork, Pair
from migdoctor.judging.path import describe_path, intended_links, measured_path, predict_path

INTENT = Intent(MigrationNetwork.parse("198.51.100.0/24"), "test", False)


def pair_of(facts, intent=INTENT):
    return Pair("hosta", "hostb", facts["source"], facts["destination"], intent)


@pytest.mark.parametrize(
    ("report", "path", "text"),
    [
        (
            "seed",
            {
                "name": "hostb.lab.test",
                "name_origin": "hostname (migration_host unset)",
                "address": "192.0.2.2",
                "ports": [49152, 49215],
                "source_link": "a-lan",
                "source_address": "192.0.2.1",
                "gateway": None,
                "source_rate_mbps": 100,
                "destination_link": "b-lan",
                "on_migration_network": False,
            },
            "hosta a-lan 192.0.2.1 (100 Mb/s) -> hostb 192.0.2.2:49152-49215 (hostb.lab.test)",
        ),
        (
            "healthy",
            {
                "name": "hostb-fast.lab.test",
                "name_origin": "/etc/libvirt/qemu.conf migration_host",
                "address": "198.51.100.2",
                "ports": [49152, 49215],
                "source_link": "a-fast",
                "source_address": "198.51.100.1",
                "gateway": None,
                "source_rate_mbps": 1000,
                "destination_link": "b-fast",
                "on_migration_network": True,
            },
            "hosta a-fast 198.51.100.1 (1000 Mb/s) -> hostb 198.51.100.2:49152-49215 (hostb-fast.lab.test)",
        ),
    ],
)
def test_path_of_the_captured_pairs(captured, report, path, text):
    pair = pair_of(captured(report))

    predicted = predict_path(pair)

    assert predicted == path
    assert describe_path(pair, predicted) == text


def test_path_through_a_gateway_names_it(captured):
    facts = captured("healthy")
    route_to(facts["source"], "198.51.100.2").update(gateway="198.51.100.254")
    pair = pair_of(facts)

    assert describe_path(pair, predict_path(pair)) == (
        "hosta a-fast 198.51.100.1 (1000 Mb/s) via 198.51.100.254 "
        "-> hostb 198.51.100.2:49152-49215 (hostb-fast.lab.test)"
    )


def test_unresolved_name_leaves_the_path_open(captured):
    facts = captured("healthy")
    name_lookup(facts["source"], "hostb-fast.lab.test")["getaddrinfo"].update(
        addresses=[], error="Name or service not known", error_code=-2
    )
    pair = pair_of(facts)

    predicted = predict_path(pair)

    assert (predicted["address"], predicted["source_link"], predicted["on_migration_network"]) == (None, None, None)
    assert describe_path(pair, predicted) == "hosta ? ? -> hostb unresolved:49152-49215 (hostb-fast.lab.test)"


def test_advertised_address_and_custom_ports_need_no_look_up(captured):
    facts = captured("seed")
    facts["destination"]["config"]["qemu_conf"]["values"].update(
        migration_host="198.51.100.2", migration_port_min=50000, migration_port_max=50063
    )
    pair = pair_of(facts)

    predicted = predict_path(pair)

    assert predicted["name_origin"] == "/etc/libvirt/qemu.conf migration_host"
    assert predicted["on_migration_network"] is True
    assert describe_path(pair, predicted) == (
        "hosta a-fast 198.51.100.1 (1000 Mb/s) -> hostb 198.51.100.2:50000-50063 (198.51.100.2)"
    )


def test_without_a_migration_network_the_path_is_not_judged(captured):
    predicted = predict_path(pair_of(captured("seed"), Intent(None, "undecided", True)))

    assert predicted["address"] == "192.0.2.2"
    assert predicted["on_migration_network"] is None


def test_intended_links_are_each_hosts_links_on_the_migration_network(captured):
    assert intended_links(pair_of(captured("seed"))) == {
        "source": [{"link": "a-fast", "address": "198.51.100.1", "effective_mbps": 1000}],
        "destination": [{"link": "b-fast", "address": "198.51.100.2", "effective_mbps": 1000}],
    }
    assert intended_links(pair_of(captured("seed"), Intent(None, "undecided", True))) == {
        "source": [],
        "destination": [],
    }


def leg(sender, receiver, out_link, in_link, ok=True):
    return {
        "from": sender,
        "to": receiver,
        "ok": ok,
        "source_link": out_link,
        "destination_link": in_link,
        "rate_mbps": 90.0,
    }


def test_measured_path_judges_each_legs_sending_link(captured):
    facts = captured("seed")
    trial = {"legs": [leg("hosta", "hostb", "a-lan", "b-lan"), leg("hostb", "hosta", "b-fast", "a-fast")]}
    pair = Pair("hosta", "hostb", facts["source"], facts["destination"], INTENT, None, trial)

    there, back = measured_path(pair)

    assert (there["on_migration_network"], there["effective_mbps"]) == (False, 100)
    assert (back["on_migration_network"], back["effective_mbps"]) == (True, 1000)
    assert measured_path(pair_of(facts)) is None  # no test migration


def test_measured_path_of_a_failed_leg_without_links(captured):
    facts = captured("seed")
    failed = {"from": "hosta", "to": "hostb", "ok": False, "error": "Connection refused"}
    pair = Pair("hosta", "hostb", facts["source"], facts["destination"], INTENT, None, {"legs": [failed]})

    assert measured_path(pair) == [
        {
            "from": "hosta",
            "to": "hostb",
            "ok": False,
            "source_link": None,
            "destination_link": None,
            "on_migration_network": None,  # no link known: cannot tell
            "rate_mbps": None,
            "effective_mbps": None,
        }
    ]
