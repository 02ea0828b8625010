"""The measured path over the lab's bridged capture: the byte counters of a test migration name
the bridge port (a-fast), and the leg is on the migration network through the bridge above it."""

from migdoctor.judging.pair import Intent, MigrationNetwork, Pair
from migdoctor.judging.path import measured_path


def leg(link):
    return {
        "from": "hosta",
        "to": "hostb",
        "ok": True,
        "source_link": link,
        "destination_link": "b-fast",
        "rate_mbps": 954.8,
    }


def test_a_leg_counted_on_a_bridge_port_is_on_the_migration_network(captured):
    facts = captured("bridged")
    pair = Pair(
        "hosta",
        "hostb",
        facts["source"],
        facts["destination"],
        Intent(MigrationNetwork.parse("198.51.100.0/24"), "test", False),
        trial={"legs": [leg("a-fast"), leg("a-lan")]},
    )

    through_port, off_network = measured_path(pair)

    assert (through_port["on_migration_network"], through_port["effective_mbps"]) == (True, 1000)
    assert (off_network["on_migration_network"], off_network["effective_mbps"]) == (False, 100)
