"""A run's pairs are settled before any host is contacted: a pair of one host with itself (the
same name, or two names reaching one machine) is taken out with its line, and the rest judged."""

import copy
from pathlib import Path

import pytest

from migdoctor.run.collect import Collected
from migdoctor.run.request import Request, SavedFacts, each_other, evacuation, prepare
from migdoctor.run.saved import same_record
from migdoctor.transports import parse_spec
from migdoctor.transports.inventory import Inventory


def request(src: str, *destinations: str) -> Request:
    hosts = [parse_spec(label, label) for label in dict.fromkeys((src, *destinations))]
    return Request(hosts, evacuation(src, list(destinations)), Inventory())


@pytest.mark.parametrize(
    ("destinations", "line"),
    [
        (("kvm2", "kvm1"), "kvm1 -> kvm1: a host does not migrate to itself; that pair is not judged"),
        (
            ("kvm2", "ssh://root@kvm1"),
            "kvm1 -> ssh://root@kvm1: both are reached as ssh:kvm1 and ssh:root@kvm1; a host does not migrate to "
            "itself; that pair is not judged",
        ),
    ],
    ids=["same-name", "user-and-name"],
)
def test_a_pair_of_one_host_is_dropped_and_the_rest_kept(destinations, line) -> None:
    run = request("kvm1", *destinations)

    prepare(run)

    assert run.pairs == [("kvm1", "kvm2")] and [host.label for host in run.hosts] == ["kvm1", "kvm2"]
    assert run.dropped == [line]


@pytest.mark.parametrize(
    "destination",
    ["ssh://kvm1:2222", "ssh://kvm1.example.org", "lab:kvm1"],
    ids=["other-port", "other-name", "other-transport"],
)
def test_hosts_not_known_to_be_one_are_both_judged(destination) -> None:
    run = request("kvm1", destination)

    prepare(run)

    assert run.pairs == [("kvm1", destination)] and run.dropped == []


def test_local_under_two_names_leaves_no_pair() -> None:
    with pytest.raises(ValueError, match="^local -> localhost: both are reached as local; a host does not migrate"):
        prepare(request("local", "localhost"))


def test_a_host_under_two_names_among_others_is_judged_once_under_its_first() -> None:
    """`--to-each-other kvm1 ssh://root@kvm1 kvm2`: kvm1 -> kvm2 and kvm2 -> kvm1, not twice over."""
    run = Request(
        [parse_spec(label, label) for label in ("kvm1", "ssh://root@kvm1", "kvm2")],
        each_other(["kvm1", "ssh://root@kvm1", "kvm2"]),
        Inventory(),
    )

    prepare(run)

    assert run.pairs == [("kvm1", "kvm2"), ("kvm2", "kvm1")] and [host.label for host in run.hosts] == ["kvm1", "kvm2"]
    assert run.dropped[-1] == (
        "ssh://root@kvm1: the same host as kvm1 (both are reached as ssh:kvm1 and ssh:root@kvm1); its pairs are "
        "judged once, as kvm1's"
    )
    assert len(run.dropped) == 3  # and the two pairs of kvm1 with itself


def test_saved_records_are_one_host_only_when_they_are_the_same_record(fleet_facts) -> None:
    """Two files of kvm1 from one collection are one host; a record of the same host and moment
    that differs (edited by hand, say) is judged as another."""
    edited = copy.deepcopy(fleet_facts["kvm1"])
    edited["sysctl"]["ip_local_port_range"] = [1024, 65000]
    records = {"kvm1": fleet_facts["kvm1"], "copy": fleet_facts["kvm1"], "edited": edited, "kvm2": fleet_facts["kvm2"]}
    hosts = {label: SavedFacts(label, Path(f"{label}.json")) for label in records}

    same = same_record({label: Collected(facts) for label, facts in records.items()})

    keys = {label: same.key(host) for label, host in hosts.items()}
    assert keys["kvm1"] == keys["copy"] and len({keys["kvm1"], keys["edited"], keys["kvm2"]}) == 3
    assert same.why(hosts["kvm1"], hosts["copy"]) == "one facts record (hosta.lab.test) for both"
