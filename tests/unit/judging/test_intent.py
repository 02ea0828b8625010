"""decide_intent: --migration-network, else the inventory, else the network of hostb's
migration_address, else that of its fastest addressed link (effective rate: speed or shaping)."""

import pytest

from migdoctor.actions.migration import TrialOptions
from migdoctor.judging.facts import link_named
from migdoctor.judging.pair import TrialTerms
from migdoctor.run.intent import decide_intent, trial_terms
from migdoctor.run.request import Request
from migdoctor.transports import Host
from migdoctor.transports.inventory import Inventory

INVENTORY = "/etc/migdoctor/inventory.toml"
LAB_URI = "qemu+ssh://root@hostb/system?command=/run/migdoctor-lab/ssh"


def request(migration_network=None, hosts=None, defaults=None, **options):
    inventory = Inventory(INVENTORY, hosts or {}, defaults or {}) if hosts or defaults else Inventory()
    return Request.pair(
        Host("hosta", "ssh", "root@hosta"),
        Host("hostb", "ssh", "root@hostb", libvirt_uri=LAB_URI),
        inventory,
        migration_network=migration_network,
        **options,
    )


def decided(intent):
    return intent.migration_network and str(intent.migration_network), intent.decided_by, intent.inferred


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (
            request("10.9.0.0/16", hosts={"hostb": {"migration_network": "203.0.113.0/24"}}),
            ("10.9.0.0/16", "--migration-network", False),
        ),
        (
            request(
                hosts={"hostb": {"migration_network": "203.0.113.0/24"}}, defaults={"migration_network": "10.9.0.0/16"}
            ),
            ("203.0.113.0/24", f"inventory {INVENTORY}", False),
        ),
        (
            request(defaults={"migration_network": "10.9.0.0/16"}),
            ("10.9.0.0/16", f"inventory {INVENTORY}", False),
        ),
        (
            request(),
            ("198.51.100.0/24", "network of hostb's migration_address 198.51.100.2 (b-fast)", True),
        ),
    ],
    ids=["flag-over-inventory-and-facts", "inventory-host-over-defaults", "inventory-defaults", "migration-address"],
)
def test_given_network_wins_over_what_the_facts_suggest(captured, given, expected):
    assert decided(decide_intent(given, "hostb", captured("healthy")["destination"])) == expected


def test_given_network_is_normalised():
    intent = decide_intent(request("198.51.100.7/24"), "hostb", None)

    assert decided(intent) == ("198.51.100.0/24", "--migration-network", False)


def test_without_migration_address_the_fastest_link_is_inferred_and_the_lab_picks_mgmt(captured):
    """seed: no migration_address. The lab's b-mgmt is an unshaped 10000 Mb/s veth, b-fast is
    shaped to 1000: inference picks the management network, and says so."""
    intent = decide_intent(request(), "hostb", captured("seed")["destination"])

    assert decided(intent) == ("203.0.113.0/24", "hostb's fastest addressed link b-mgmt (10000 Mb/s)", True)


def test_fastest_link_counts_the_shaping_rate(captured):
    dst = captured("seed")["destination"]
    link_named(dst, "b-mgmt")["speed_mbps"] = 100  # a 100 Mb/s management NIC, as on real hosts

    assert decided(decide_intent(request(), "hostb", dst)) == (
        "198.51.100.0/24",
        "hostb's fastest addressed link b-fast (1000 Mb/s)",
        True,
    )


def test_migration_address_not_assigned_falls_back_to_the_fastest_link(captured):
    dst = captured("healthy")["destination"]
    dst["config"]["qemu_conf"]["values"]["migration_address"] = "10.9.0.2"

    assert decide_intent(request(), "hostb", dst).decided_by == "hostb's fastest addressed link b-mgmt (10000 Mb/s)"


def test_nothing_to_infer_from_leaves_the_network_undecided(captured):
    dst = captured("seed")["destination"]
    for link in dst["links"]:
        link.update(speed_mbps=None, qdisc={"kind": "noqueue", "rate_bps": None})

    unreached = decide_intent(request(), "hostb", None)
    unknown_speeds = decide_intent(request(), "hostb", dst)

    assert decided(unreached) == (None, "undecided: destination not reached", True)
    assert decided(unknown_speeds) == (None, "undecided: no migration network given or inferable", True)
    assert unknown_speeds.migration_network is None


def test_intent_carries_the_request_options():
    intent = decide_intent(request("198.51.100.0/24", min_link_speed_mbps=1000), "hostb", None)

    assert (intent.min_link_speed_mbps, intent.dst_libvirt_uri) == (1000, LAB_URI)


def test_the_trial_terms_are_what_the_request_asks_of_the_test_migration():
    asked = request(trial=TrialOptions(migrate_uri="tcp://hostb-fast", tls=True), min_rate_mbps=900.0)
    no_trial = request(min_rate_mbps=900.0, min_rate_fraction=0.8)

    assert trial_terms(asked) == TrialTerms(tls=True, migrate_uri="tcp://hostb-fast", min_rate_mbps=900.0)
    assert trial_terms(no_trial) == TrialTerms(min_rate_mbps=900.0, min_rate_fraction=0.8)
