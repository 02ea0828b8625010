"""The guest collectors over a connection that answers with what the lab's libvirt 9.0 really
answered (tests/unit/fixtures/guests, each file saying where it came from): the shapes the guest
checks are built on, and libvirt's own judgement of a CPU (check='none', host-passthrough, a
destination without KVM)."""

import copy
import json
from pathlib import Path

import libvirt
import pytest

from migdoctor.actions.guests import cpu_lookups
from migdoctor.facts.gaps import Gaps
from migdoctor.facts.guests import (
    GuestAsk,
    baseline_cpu,
    collect_guests,
    collect_virt,
    compare_cpu,
    host_model_cpu,
    shared_filesystems,
)
from migdoctor.facts.libvirt import add_libvirt, libvirt_facts
from migdoctor.schemas import load_schema

FIXTURES = Path(__file__).parents[1] / "fixtures" / "guests"
CALLS = json.loads((FIXTURES / "libvirt-calls.json").read_text())
RECORD = json.loads((Path(__file__).parents[2] / "data" / "facts" / "healthy-report.json").read_text())["facts"]


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text()


def refusal(code: int, message: str) -> libvirt.libvirtError:
    """A libvirtError as libvirt-python raises it, with libvirt's code and message."""
    error = libvirt.libvirtError(message)
    error.err = (code, 0, message, 2, None, None, None, 0, 0)
    return error


class Domain:
    def __init__(self, xml: str, job: dict | None = None, snapshots: int = 0):
        self.xml, self.job, self.snapshots = xml, job or {}, snapshots

    def name(self):
        return self.xml.split("<name>")[1].split("<")[0]

    def UUIDString(self):
        return self.xml.split("<uuid>")[1].split("<")[0]

    def XMLDesc(self, flags):
        assert flags == libvirt.VIR_DOMAIN_XML_MIGRATABLE
        return self.xml

    def blockJobInfo(self, disk, flags):
        assert disk == "vda", "an empty CD-ROM drive has no block job to ask for"
        return self.job

    def blockInfo(self, disk):
        return CALLS["block_info_db_vda"]

    def snapshotNum(self):
        return self.snapshots

    def isActive(self):
        return 1

    def info(self):
        return CALLS["info_db"]


class Network:
    def XMLDesc(self, flags):
        return fixture("hostb-network-lab-net.xml")

    def name(self):
        return "lab-net"

    def isActive(self):
        return 0


class Pool:
    def XMLDesc(self, flags):
        return fixture("hostb-pool-images.xml")

    def name(self):
        return "images"

    def isActive(self):
        return 1


class Secret:
    def __init__(self, found: dict):
        self.found = found

    def UUIDString(self):
        return self.found["uuid"]

    def usageType(self):
        return self.found["usage_type"]

    def usageID(self):
        return self.found["usage_id"]


class Connection:
    """hosta's libvirt (KVM) or, with kvm=False, hostb's in the no-KVM scenario."""

    def __init__(self, domains=(), kvm: bool = True):
        self.domains, self.kvm = list(domains), kvm
        self.compared: list[str] = []

    def listAllDomains(self, flags=0):
        return self.domains

    def getVersion(self):
        return 7_002_000

    def getHostname(self):
        return "hosta.lab.test"

    def close(self):
        pass

    def getCapabilities(self):
        return fixture("hosta-capabilities.xml")

    def getDomainCapabilities(self, emulator, arch, machine, virt_type, flags):
        if virt_type == "kvm" and not self.kvm:
            raise refusal(**CALLS["no_kvm_hostb_domcaps_kvm"])
        return fixture("hosta-domcaps-kvm.xml" if virt_type == "kvm" else "hostb-no-kvm-domcaps-qemu.xml")

    def getFreeMemory(self):
        return CALLS["free_memory"]

    def getFreePages(self, pages, start, count):
        assert (pages, start, count) == ([2048, 1048576], 0, 1)
        return {int(cell): {int(size): n for size, n in sizes.items()} for cell, sizes in CALLS["free_pages"].items()}

    def listAllNetworks(self):
        return [Network()]

    def listAllStoragePools(self):
        return [Pool()]

    def listAllSecrets(self):
        return [Secret(found) for found in CALLS["secrets"]]

    def getLibVersion(self):
        return CALLS["version"]

    def compareHypervisorCPU(self, emulator, arch, machine, virt_type, xml, flags):
        self.compared.append(xml)
        if not self.kvm:
            raise refusal(**CALLS["no_kvm_hostb_compare_kvm"])
        if "qemu64" in xml:
            raise refusal(**CALLS["compare"]["qemu64"])
        return CALLS["compare"]["baseline"]

    def baselineHypervisorCPU(self, emulator, arch, machine, virt_type, cpus, flags):
        assert all(cpu.startswith("<cpu>") for cpu in cpus)
        return CALLS["baseline_xml"]


def guests_of(*names: str) -> list[Domain]:
    return [Domain(fixture(f"{name}-migratable.xml")) for name in names]


def test_every_running_guest_in_libvirts_order_with_its_disks_and_memory():
    gaps = Gaps()
    found = collect_guests(Connection(guests_of("db", "web", "isolated")), (), gaps)

    assert [guest["name"] for guest in found] == ["db", "web", "isolated"] and gaps.entries == []
    db = found[0]
    assert db["xml"].startswith("<!-- captured") and "/srv/migdoctor-lab-shared/db.img" in db["xml"]
    assert db["uuid"] == "fed5919e-d18c-49c8-b3c7-83abc88bffc7" or len(db["uuid"]) == 36
    assert db["disks"] == [
        {"target": "vda", "allocation_bytes": 1048576, "capacity_bytes": 16777216, "physical_bytes": 16777216}
    ]
    assert db["memory_kib"] == 65536 and db["snapshots"] == 0 and db["block_jobs"] == []
    assert found[1]["disks"] == []  # web is diskless


def test_an_active_block_job_is_named_by_its_type():
    """db's vda under `virsh blockcopy` (mirror waiting for a pivot): libvirt refuses to migrate it."""
    domain = Domain(fixture("db-migratable.xml"), job=CALLS["block_job_info_db_vda"], snapshots=2)

    found = collect_guests(Connection([domain]), (), Gaps())

    assert found[0]["block_jobs"] == [{"disk": "vda", "type": "copy"}] and found[0]["snapshots"] == 2


def test_an_empty_cdrom_drive_has_neither_a_job_nor_sizes():
    cdrom = "<disk type='file' device='cdrom'><target dev='hdc' bus='ide'/><readonly/></disk>"
    xml = fixture("db-migratable.xml").replace("<controller type='usb'", cdrom + "<controller type='usb'")

    (found,) = collect_guests(Connection([Domain(xml)]), (), Gaps())

    assert [disk["target"] for disk in found["disks"]] == ["vda"]


def test_a_refused_read_write_connection_leaves_the_guest_parts_as_gaps_and_the_rest_collected(monkeypatch):
    def refuse(uri):
        raise refusal(38, "authentication failed: access denied by policy")

    monkeypatch.setattr(libvirt, "open", refuse)
    monkeypatch.setattr(libvirt, "openReadOnly", lambda uri: Connection(guests_of("web")))

    facts, reason, parts = libvirt_facts("qemu+ssh://root@hosta/system", None, GuestAsk((), source=True))

    assert (
        reason is None
        and facts["hostname"] == "hosta.lab.test"
        and facts["domains"] == [{"name": "web", "active": True}]
    )
    assert [gap["fact"] for gap in parts["missing"]] == ["virt", "guests"] and "virt" not in parts
    assert parts["missing"][0]["reason"] == (
        "cannot open qemu+ssh://root@hosta/system read-write, as guests need: authentication failed: access denied by policy"
    )


def test_a_named_guest_that_is_not_running_is_a_gap_naming_it():
    gaps = Gaps()

    found = collect_guests(Connection(guests_of("db", "web")), ("web", "mail"), gaps)

    assert [guest["name"] for guest in found] == ["web"]
    assert gaps.entries == [{"fact": "guests.mail", "reason": "no running guest 'mail' on this host"}]


def test_virt_lists_what_the_host_offers_and_a_refused_kvm_as_null():
    gaps = Gaps()
    virt = collect_virt(Connection(kvm=False), gaps)

    assert gaps.entries == [] and virt is not None
    assert virt["domain_capabilities"]["kvm"] is None and "<domainCapabilities>" in virt["domain_capabilities"]["qemu"]
    assert virt["hugepages_free"] == {"2048": 0, "1048576": 0}  # the 4 KiB base page is not a huge page
    assert virt["networks"] == [
        {"name": "lab-net", "active": False, "bridge": "virbr-lab", "portgroups": ["web", "db"]}
    ]
    assert virt["secrets"] == [
        {"uuid": CALLS["secrets"][0]["uuid"], "usage_type": "ceph", "usage_id": "client.admin secret"}
    ]
    assert virt["storage_pools"] == [
        {"name": "images", "active": True, "type": "dir", "target": "/var/lib/libvirt/images"}
    ]
    assert virt["free_memory_bytes"] == CALLS["free_memory"] and virt["version"] == 9000000


def test_shared_filesystems_is_null_where_libvirt_ignores_the_key():
    conf = {"values": {"shared_filesystems": ["/srv/lab"]}}

    assert shared_filesystems(9_000_000, conf) is None  # Debian 12's libvirt 9.0
    assert shared_filesystems(10_002_000, conf) == ["/srv/lab"]
    assert shared_filesystems(10_002_000, {"values": {}}) == []


def part_errors(part: str, value) -> list[str]:
    """What the facts schema says of the record part PART holding VALUE."""
    from jsonschema import Draft202012Validator

    return [
        error.message for error in Draft202012Validator(load_schema("facts")["properties"][part]).iter_errors(value)
    ]


def test_the_guest_parts_of_a_record_match_the_facts_schema_and_a_broken_one_does_not():
    conn = Connection(guests_of("db", "isolated"))
    gaps = Gaps()
    parts = {"virt": collect_virt(conn, gaps), "guests": collect_guests(conn, ("db", "gone"), gaps)}
    record = add_libvirt(copy.deepcopy(RECORD["source"]), None, None, parts | {"missing": gaps.entries})

    assert part_errors("virt", record["virt"]) == [] and part_errors("guests", record["guests"]) == []
    assert part_errors("missing", record["missing"]) == []
    assert record["virt"]["shared_filesystems"] is None and "version" not in record["virt"]
    assert {"fact": "guests.gone", "reason": "no running guest 'gone' on this host"} in record["missing"]
    del record["guests"][0]["xml"]
    record["virt"]["hugepages_free"]["2M"] = 1
    assert part_errors("guests", record["guests"]) == ["'xml' is a required property"]
    assert part_errors("virt", record["virt"]) == ["'2M' does not match '^[0-9]+$'"]


def test_a_cpu_libvirt_does_not_check_is_not_compared_but_keeps_libvirts_words():
    """The lab's guests get QEMU's default CPU with check='none': libvirt 9.0 starts it on any host
    (the lab migrates it), though a comparison would call qemu64 incompatible with this host."""
    found = compare_cpu(Connection(), fixture("web-migratable.xml"))

    assert found["result"] == "not-compared"
    assert (
        "check='none'" in found["message"]
        and "Host CPU does not provide required features: pni, svm" in found["message"]
    )


def test_a_checked_cpu_the_destination_lacks_features_for_is_incompatible_naming_them():
    xml = fixture("web-migratable.xml").replace("check='none'", "check='partial'")
    conn = Connection()

    found = compare_cpu(conn, xml)

    assert found == {
        "result": "incompatible",
        "message": "the CPU is incompatible with host CPU: Host CPU does not provide required features: pni, svm",
        "baseline_xml": None,
    }
    assert conn.compared[0].startswith('<cpu mode="custom"') and "qemu64" in conn.compared[0]


def test_a_checked_cpu_the_destination_runs_is_identical():
    xml = fixture("web-migratable.xml").replace("check='none'", "check='full'").replace("qemu64", "Broadwell")

    assert compare_cpu(Connection(), xml)["result"] == "identical"


def test_a_destination_without_kvm_is_an_error_in_libvirts_words():
    xml = fixture("web-migratable.xml").replace("check='none'", "check='partial'")

    found = compare_cpu(Connection(kvm=False), xml)

    assert found["result"] == "error" and "the accel 'kvm' is not supported" in found["message"]


@pytest.mark.parametrize(
    ("kvm", "result", "words"),
    [
        (True, "not-compared", "libvirt compares nothing"),
        (False, "error", "the accel 'kvm' is not supported"),
    ],
)
def test_a_host_passthrough_cpu_is_asked_only_whether_the_destination_offers_that_mode(kvm, result, words):
    conn = Connection(kvm=kvm)

    found = compare_cpu(conn, fixture("web-host-passthrough-migratable.xml"))

    assert found["result"] == result and words in found["message"] and conn.compared == []


def test_a_host_passthrough_cpu_where_the_mode_is_not_supported_is_incompatible():
    """hostb's qemu (TCG) domain capabilities: host-passthrough supported='no'."""
    xml = fixture("web-host-passthrough-migratable.xml").replace("type='kvm'", "type='qemu'", 1)

    found = compare_cpu(Connection(kvm=False), xml)

    assert found["result"] == "incompatible" and "do not support CPU mode host-passthrough" in found["message"]


def test_the_baseline_is_taken_over_both_hosts_host_model_cpus():
    domcaps = fixture("hosta-domcaps-kvm.xml")

    cpu = host_model_cpu(domcaps)

    assert cpu is not None and cpu.startswith('<cpu><model fallback="forbid">') and "<vendor>Intel</vendor>" in cpu
    assert baseline_cpu(Connection(), [domcaps, domcaps], "kvm") == CALLS["baseline_xml"]
    assert baseline_cpu(Connection(), [domcaps, None], "kvm") is None  # a host without KVM


class Destination:
    """What cpu_lookups needs of the destination's transport: its libvirt URI and the way to it."""

    libvirt_uri = "qemu+ssh://root@hostb/system"

    def libvirt_route(self):
        return self.libvirt_uri


def test_each_distinct_cpu_is_compared_once_on_the_destination_with_the_pairs_baseline(monkeypatch):
    conn = Connection()
    monkeypatch.setattr(libvirt, "open", lambda uri: conn)
    checked = fixture("web-migratable.xml").replace("check='none'", "check='partial'")
    guests = [{"name": "web", "xml": checked}, {"name": "db", "xml": checked.replace("<name>web", "<name>db")}]
    guests.append({"name": "isolated", "xml": fixture("isolated-migratable.xml")})
    domcaps = fixture("hosta-domcaps-kvm.xml")

    found = cpu_lookups(Destination(), guests, [{"domain_capabilities": {"kvm": domcaps}}] * 2)

    assert len(conn.compared) == 2  # web and db share one CPU definition
    assert found["web"]["result"] == found["db"]["result"] == "incompatible"
    assert found["isolated"]["result"] == "not-compared"
    assert {guest["baseline_xml"] for guest in found.values()} == {CALLS["baseline_xml"]}


def test_a_destination_whose_libvirt_cannot_be_opened_is_an_error_for_every_guest(monkeypatch):
    def refuse(uri):
        raise refusal(38, "Cannot recv data: Connection reset by peer")

    monkeypatch.setattr(libvirt, "open", refuse)

    found = cpu_lookups(Destination(), [{"name": "web", "xml": fixture("web-migratable.xml")}], [{}, {}])

    assert found == {
        "web": {
            "result": "error",
            "message": "cannot open qemu+ssh://root@hostb/system: Cannot recv data: Connection reset by peer",
            "baseline_xml": None,
        }
    }
