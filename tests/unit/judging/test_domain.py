"""Domain and capabilities XML read as libvirt wrote them: the lab's libvirt 9.0 and libvirt's own
test suite (tests/unit/fixtures/guests, each file saying where it came from)."""

from pathlib import Path

import pytest

from migdoctor.judging.domain import DomainXMLError, kib, parse_capabilities, parse_domain

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "guests"


def domain(name):
    return parse_domain((FIXTURES / name).read_text(encoding="utf-8"))


def test_the_lab_guest_reads_as_libvirt_wrote_it():
    db = domain("lab-db.xml")

    assert (db.name, db.type, db.arch, db.machine) == ("db", "kvm", "x86_64", "pc-i440fx-7.2")
    assert (db.memory_kib, db.current_memory_kib, db.hugepages) == (131072, 131072, None)
    assert db.cpu.mode == "custom" and db.cpu.model == "kvm64" and not db.cpu.invtsc  # host-model, expanded
    (disk,) = db.disks
    assert (disk.type, disk.target, disk.path, disk.cache, disk.format) == (
        "file",
        "vda",
        "/var/lib/libvirt/images/db.img",
        "none",
        "raw",
    )
    (interface,) = db.interfaces
    assert (interface.type, interface.bridge, interface.mtu, interface.source) == ("bridge", "br-mig", 1500, "br-mig")


def test_devices_libvirt_refuses_to_migrate_are_read():
    assert [(h.mode, h.type, h.address) for h in domain("hostdev-pci.xml").hostdevs] == [
        ("subsystem", "pci", "0000:06:12.5")
    ]
    assert [(i.type, i.dev) for i in domain("net-vdpa.xml").interfaces] == [("vdpa", "/dev/vhost-vdpa-0")]
    virtiofs = domain("virtiofs.xml")
    assert [(f.driver, f.source, f.target) for f in virtiofs.filesystems] == [("virtiofs", "/path", "mount_tag")]
    assert virtiofs.memory_source == "file"
    tsc = domain("lab-tsc-invtsc.xml")
    assert tsc.cpu.invtsc and tsc.tsc_frequency is None
    assert domain("invtsc-tsc-frequency.xml").tsc_frequency == 4567890000
    assert not domain("host-passthrough.xml").cpu.invtsc  # policy disable


def test_secrets_hugepages_and_network_disks_are_read():
    luks = domain("luks-disks.xml")
    assert [d.secrets for d in luks.disks] == [("0a81f5b2-8403-7b23-c8d6-21ccc2f80d6f",), ()]
    assert luks.disks[1].secret_usages == (("passphrase", "/storage/guest_disks/encryptdisk2"),)
    (tpm,) = domain("tpm-encrypted.xml").tpms
    assert (tpm.backend, tpm.version, tpm.secret) == ("emulator", "2.0", "32ee7e76-2178-47a1-ab7b-269e6e348015")
    rbd = domain("rbd-disks.xml")
    assert {(d.type, d.protocol, d.name, d.path) for d in rbd.disks} >= {("network", "rbd", "pool/image", None)}
    assert rbd.disks[4].secret_usages == (("ceph", "mycluster_myname"),)
    assert domain("hugepages-2m.xml").hugepages == (2048,)


@pytest.mark.parametrize(
    ("value", "unit", "expected"),
    [("131072", None, 131072), ("128", "MiB", 131072), ("1", "G", 1048576), ("1000", "KB", 976), ("2", "GB", 1953125)],
)
def test_memory_units_are_libvirts(value, unit, expected):
    assert kib(value, unit) == expected


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("<domain", "domain XML does not parse"),
        ("<network/>", "the XML's root is <network>, not <domain>"),
        ("<domain><memory unit='parsec'>1</memory></domain>", "memory unit 'parsec' is not one libvirt knows"),
        ("<domain><memory>lots</memory></domain>", "memory size 'lots' is not a whole number"),
        ("<domain><devices><interface type='bridge'><mtu size='big'/></interface></devices></domain>", "MTU 'big'"),
    ],
)
def test_xml_libvirt_would_not_write_is_one_error(text, error):
    with pytest.raises(DomainXMLError) as raised:
        parse_domain(text)

    assert error in str(raised.value)


def test_capabilities_name_machines_with_their_aliases_and_the_domain_types():
    kvm = parse_capabilities((FIXTURES / "lab-capabilities.xml").read_text())
    no_kvm = parse_capabilities((FIXTURES / "lab-capabilities-no-kvm.xml").read_text())

    x86 = kvm.archs["x86_64"]
    assert {"pc", "pc-i440fx-7.2", "q35"} <= set(x86.machines)
    assert x86.emulators == ("/usr/bin/qemu-system-x86_64",) and x86.domain_types == ("kvm", "qemu")
    assert no_kvm.archs["x86_64"].domain_types == ("qemu",)
    assert (kvm.host_cpu.vendor, kvm.host_cpu.model) == ("Intel", "Broadwell")
    assert set(kvm.host_cpu.features) - set(no_kvm.host_cpu.features) == {
        "rdctl-no",
        "rsba",
        "skip-l1dfl-vmentry",
        "mds-no",
        "pschange-mc-no",
        "taa-no",
    }
