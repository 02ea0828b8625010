"""Guest facts and the pair look-ups against the lab's real guests (scenario guests: web, db,
scratch, isolated on hosta): what libvirt 9.0 says of each and what the storage marker proves,
with nothing left behind on either host."""

from typing import Any

import pytest
from test_far_side_lab import sshd_logins

from migdoctor.farside.marker import PREFIX, SHARED_MAGIC
from migdoctor.run.collect import Gathered, collect
from migdoctor.run.request import Request
from migdoctor.schemas import facts_problem
from migdoctor.transports import resolve_host
from migdoctor.transports.inventory import load_inventory

GUEST_DIRS = ("/srv/migdoctor-lab-shared", "/var/lib/libvirt/images")


def gathered_for(scenario_lab: Any) -> Gathered:
    """hosta -> hostb's facts and guest look-ups, every running guest asked for."""
    inventory = load_inventory()
    hosts = [resolve_host(name, inventory) for name in ("hosta", "hostb")]
    return collect(Request(hosts, [("hosta", "hostb")], inventory, probe=False, guests=()))


@pytest.fixture(scope="module")
def guests(lab) -> tuple[Any, Gathered]:
    lab.use("guests")
    return lab, gathered_for(lab)


def test_guests_and_their_look_ups_ride_on_each_hosts_one_ssh_connection(lab):
    """Round one's read-write libvirt connections and the destination's CPU comparison go through
    the far side's connection, as libvirt's read-only facts do: one login per host and run."""
    lab.use("guests")
    before = {host: sshd_logins(host) for host in ("hosta", "hostb")}

    gathered = gathered_for(lab)

    assert gathered.measured[("hosta", "hostb")].guests
    assert {host: sshd_logins(host) - before[host] for host in before} == {"hosta": 1, "hostb": 1}


def test_the_source_lists_its_running_guests_with_their_migratable_xml(guests):
    lab, gathered = guests
    hosta, hostb = (gathered.hosts[name].facts for name in ("hosta", "hostb"))

    assert facts_problem(hosta) is None and facts_problem(hostb) is None
    assert sorted(guest["name"] for guest in hosta["guests"]) == ["db", "isolated", "scratch", "web"]
    assert "guests" not in hostb  # not a source in this run
    db = next(guest for guest in hosta["guests"] if guest["name"] == "db")
    assert "<source file='/srv/migdoctor-lab-shared/db.img'/>" in db["xml"] and db["memory_kib"] == 65536
    assert db["disks"][0]["allocation_bytes"] >= 1024 * 1024 and db["snapshots"] == 0 and db["block_jobs"] == []
    for host in (hosta, hostb):
        assert host["virt"]["domain_capabilities"]["kvm"] and host["virt"]["shared_filesystems"] is None  # 9.0
    assert not [gap for gap in hosta["missing"] + hostb["missing"] if gap["fact"].startswith(("guests", "virt"))]


def test_the_marker_proves_db_shares_storage_on_a_filesystem_libvirt_does_not_count_and_scratch_does_not(guests):
    _, gathered = guests
    looked_up = gathered.measured[("hosta", "hostb")].guests
    assert looked_up is not None

    (db,) = looked_up["db"]["storage"]
    (scratch,) = looked_up["scratch"]["storage"]
    assert db["same"] is True and db["fstype"] not in SHARED_MAGIC.values() and db["error"] is None
    assert scratch["same"] is False and scratch["free_bytes"] > 0 and scratch["error"] is None
    assert scratch["exists"] is False and gathered.hosts["hostb"].facts["virt"]["storage_pools"] == []
    assert looked_up["web"]["storage"] == [] and looked_up["isolated"]["storage"] == []


def test_no_marker_is_left_on_either_host(guests):
    lab, _ = guests
    for host in ("hosta", "hostb"):
        found = lab.run(host, "find", *GUEST_DIRS, "-name", f"{PREFIX}*").stdout
        assert found == "", f"{host} keeps {found}"


def test_webs_cpu_is_judged_as_libvirt_judges_it_and_a_baseline_is_offered(guests):
    """The lab's guests get QEMU's default qemu64 with check='none': libvirt does not check it (they
    migrate), while a comparison on hostb names features this machine's KVM does not offer."""
    _, gathered = guests
    cpu = gathered.measured[("hosta", "hostb")].guests["web"]["cpu"]

    assert cpu["result"] == "not-compared"
    assert "check='none'" in cpu["message"] and "Host CPU does not provide required features" in cpu["message"]
    assert cpu["baseline_xml"].startswith("<cpu mode='custom' match='exact'>")


def test_br_app_is_on_hosta_only(guests):
    _, gathered = guests
    links = {host: {link["name"] for link in gathered.hosts[host].facts["links"]} for host in ("hosta", "hostb")}

    assert "br-app" in links["hosta"] and "br-app" not in links["hostb"]


def test_a_host_passthrough_guest_against_a_destination_without_kvm_is_libvirts_error(lab):
    lab.use("guests-no-kvm-destination")

    cpu = gathered_for(lab).measured[("hosta", "hostb")].guests["web"]["cpu"]

    assert cpu == {
        "result": "error",
        "message": "invalid argument: the accel 'kvm' is not supported by '/usr/bin/qemu-system-x86_64' on this host",
        "baseline_xml": None,
    }
