"""Planning a host's look-ups aimed at its peers when each host is collected on its own (the
migdoctor.fleet collection's second round), from the lab's captured facts: kvm1 the healthy
source, kvm2 the healthy destination (it advertises hostb-fast.lab.test), kvm3 the seed's
destination (it advertises its hostname hostb.lab.test, which resolves to its LAN address)."""

from migdoctor.run.lookups import lookups_among, plan_lookups, planned_lookups
from migdoctor.run.request import Request, each_other
from migdoctor.transports import Lookups, resolve_host
from migdoctor.transports.inventory import Inventory

FAST = "198.51.100.0/24"


def entries_of(labels: list[str], **networks: str) -> Inventory:
    """The hosts as the collection reads them from their variables: the play's migration network,
    or one of NETWORKS for a host."""
    return Inventory(
        "the play's host variables",
        hosts={
            label: {"transport": f"ssh://root@{label}", "migration_network": networks.get(label, FAST)}
            for label in labels
        },
    )


def test_each_hosts_own_plan_is_what_check_all_over_the_same_hosts_asks_of_it(fleet_facts):
    """Planned host by host, from its peers' records, each batch equals check --all's for that host."""
    labels = list(fleet_facts)
    inventory = entries_of(labels, kvm3="192.0.2.0/24")
    whole = Request([resolve_host(label, inventory) for label in labels], each_other(labels), inventory)
    by_check = plan_lookups(planned_lookups(whole, fleet_facts)[1])

    for label in labels:
        assert lookups_among(label, fleet_facts, inventory) == by_check[label], label
    assert set(by_check) == set(labels)


def test_a_source_resolves_what_its_peer_advertises_and_routes_to_its_address_on_the_peers_migration_network(
    fleet_facts,
):
    records = {label: fleet_facts[label] for label in ("kvm1", "kvm3")}

    on_fast = lookups_among("kvm1", records, entries_of(["kvm1", "kvm3"]))
    on_lan = lookups_among("kvm1", records, entries_of(["kvm1", "kvm3"], kvm3="192.0.2.0/24"))

    assert "hostb.lab.test" in on_fast.resolve
    # kvm3's fast address: to reach it (kvm1 -> kvm3), and the route back to it (kvm3 -> kvm1)
    assert on_fast.route_to == on_fast.reverse == ("198.51.100.2",)
    assert on_lan.route_to == ("192.0.2.2", "198.51.100.2")  # to reach kvm3 on its LAN; back to it on kvm1's network
    assert on_lan.only and on_fast.only  # the second round: look-ups alone


def test_a_destination_routes_back_to_each_source_on_its_own_migration_network(fleet_facts):
    records = {label: fleet_facts[label] for label in ("kvm1", "kvm2")}

    planned = lookups_among("kvm2", records, entries_of(["kvm1", "kvm2"]))

    assert "198.51.100.1" in planned.route_to and "198.51.100.1" in planned.reverse
    assert "hosta-fast.lab.test" in planned.resolve  # kvm1 is a destination too (kvm2 -> kvm1)


def test_a_host_alone_or_whose_peers_were_not_reached_plans_nothing(fleet_facts):
    assert lookups_among("kvm1", {"kvm1": fleet_facts["kvm1"]}, entries_of(["kvm1"])) == Lookups(only=True)
