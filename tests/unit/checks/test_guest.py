"""The guest checks over the lab's captured guest (libvirt 9.0) and libvirt's own test-suite domain
XML (tests/unit/fixtures/guests: each file says where it came from): each passes on the healthy
case and catches its fault; a fact an older record lacks makes it SKIP naming the fact."""

from __future__ import annotations

import json

import pytest
from guest_records import GUEST_CHECKS, GiB, fixture, guest_case, guest_entry, judge_one, lookups, storage_lookup

from migdoctor.checkapi import Status
from migdoctor.engine import judge_guest
from migdoctor.judging.guest import GuestCase

# guest.convergence needs the guest's migration facts and the pair's bandwidth, which the captured
# guest predates: tests/unit/checks/test_convergence.py passes and fails it.
HEALTHY = sorted(check for check in GUEST_CHECKS if check != "guest.convergence")


@pytest.mark.parametrize("check_id", HEALTHY)
def test_every_guest_check_passes_on_the_captured_guest(check_id):
    finding = judge_one(check_id, guest_case())

    assert finding.status == Status.PASS, finding.summary


def without_virt(facts):
    facts["virt"] = None
    facts["missing"].append({"fact": "virt", "reason": "libvirtError: authentication unavailable"})


@pytest.mark.parametrize(
    "check_id", [c for c in HEALTHY if any(n.startswith("dst.virt") for n in GUEST_CHECKS[c].needs)]
)
def test_a_destination_without_virt_facts_skips_naming_the_collectors_reason(check_id):
    finding = judge_one(check_id, guest_case(dst=without_virt))

    assert finding.status == Status.SKIP
    assert finding.summary == "hostb: virt not collected: libvirtError: authentication unavailable"


def test_an_older_record_without_virt_skips_naming_the_fact():
    def older(facts):
        del facts["virt"]

    finding = judge_one("guest.memory", guest_case(dst=older))

    assert (finding.status, finding.summary) == (Status.SKIP, "hostb: virt.free_memory_bytes not collected")


def test_domain_xml_libvirt_could_not_have_written_skips_naming_the_guest():
    finding = judge_one("guest.libvirt-refuses", guest_case(guest=guest_entry() | {"xml": "<domain"}))

    assert finding.status == Status.SKIP
    assert finding.summary.startswith("hosta: guest db: domain XML does not parse: ")


# guest.libvirt-refuses: libvirt 9.0's qemuMigrationSrcIsAllowed, word for word.
@pytest.mark.parametrize(
    ("xml", "change", "words"),
    [
        ("lab-db.xml", {"snapshots": 2}, "cannot migrate domain with 2 snapshots"),
        ("lab-db.xml", {"block_jobs": [{"disk": "vda", "type": "copy"}]}, "domain has active block job"),
        ("hostdev-pci.xml", {}, "cannot migrate a domain with <hostdev mode='subsystem' type='pci'>"),
        ("net-vdpa.xml", {}, "vDPA devices cannot be migrated"),
        ("virtiofs.xml", {}, "migration with virtiofs device is not supported"),
    ],
    ids=["snapshots", "block-job", "pci-hostdev", "vdpa", "virtiofs"],
)
def test_libvirt_refuses_what_qemuMigrationSrcIsAllowed_refuses(xml, change, words):
    finding = judge_one("guest.libvirt-refuses", guest_case(guest=guest_entry(xml) | change))

    assert finding.status == Status.FAIL
    assert f'"{words}"' in finding.summary
    assert "libvirt 9.0" in finding.summary and finding.remediation


def test_invtsc_without_a_tsc_frequency_is_refused_in_libvirts_words_before_qemu_6_and_with_one_it_is_not():
    with_frequency = fixture("invtsc-tsc-frequency.xml")
    without = with_frequency.replace("<timer name='tsc' frequency='4567890000'/>", "")

    def qemu_5(facts):  # no migration blockers to ask QEMU for: libvirt's own check speaks
        facts["identity"]["hypervisor"]["libvirt"]["hypervisor_version"] = "5.2.0"

    refused = judge_one("guest.libvirt-refuses", guest_case(guest=guest_entry() | {"xml": without}, src=qemu_5))
    allowed = judge_one("guest.libvirt-refuses", guest_case(guest=guest_entry("invtsc-tsc-frequency.xml")))

    assert refused.status == Status.FAIL
    assert "\"domain has 'invtsc' CPU feature but TSC frequency is not specified\"" in refused.summary
    assert allowed.status == Status.PASS


def test_a_host_passthrough_guest_with_invtsc_disabled_is_not_refused():
    finding = judge_one("guest.libvirt-refuses", guest_case(guest=guest_entry("host-passthrough.xml")))

    assert finding.status == Status.PASS


# guest.cpu
def test_an_incompatible_cpu_fails_naming_the_missing_features_and_the_baseline_model():
    made = lookups(
        cpu={
            "result": "incompatible",
            "message": "guest CPU doesn't match specification: missing features: avx512f,amx-tile",
            "baseline_xml": "<cpu mode='custom' match='exact'><model fallback='forbid'>Skylake-Server</model></cpu>",
        }
    )

    finding = judge_one("guest.cpu", guest_case(made=made))

    assert finding.status == Status.FAIL
    assert "missing features: avx512f,amx-tile" in finding.summary
    assert "<model>Skylake-Server</model>" in finding.remediation


def test_a_cpu_comparison_that_failed_is_a_warning_never_a_pass():
    made = lookups(cpu={"result": "error", "message": "the accel 'kvm' is not supported", "baseline_xml": None})

    finding = judge_one("guest.cpu", guest_case(made=made))

    assert finding.status == Status.WARN and "cannot tell" in finding.summary


def test_a_cpu_libvirt_does_not_check_skips_with_the_look_ups_words():
    said = "libvirt does not check a CPU with check='none'; compared anyway: superset"
    made = lookups(cpu={"result": "not-compared", "message": said, "baseline_xml": None})

    finding = judge_one("guest.cpu", guest_case(made=made))

    assert (finding.status, finding.summary) == (Status.SKIP, f"db's CPU was not compared on hostb: {said}")


def test_a_named_cpu_without_its_comparison_skips():
    finding = judge_one("guest.cpu", guest_case(made={}))

    assert finding.status == Status.SKIP and "no CPU comparison" in finding.summary


def test_host_passthrough_to_a_destination_without_kvm_fails():
    def no_kvm(facts):
        facts["virt"]["domain_capabilities"]["kvm"] = None

    finding = judge_one("guest.cpu", guest_case("host-passthrough.xml", dst=no_kvm))

    assert finding.status == Status.FAIL and "needs KVM" in finding.summary


def test_host_passthrough_between_identical_hosts_passes_and_to_another_cpu_fails():
    def other_cpu(facts):
        kvm = facts["virt"]["domain_capabilities"]["kvm"]
        kvm = kvm.replace("<model fallback='forbid'>kvm64</model>", "<model fallback='forbid'>Skylake-Client</model>")
        facts["virt"]["domain_capabilities"]["kvm"] = kvm.replace("<feature policy='require' name='invtsc'/>", "")

    def other_stepping(facts):
        facts["virt"]["capabilities_xml"] = facts["virt"]["capabilities_xml"].replace("stepping='1'", "stepping='2'")

    same = judge_one("guest.cpu", guest_case("lab-web-passthrough.xml"))
    other = judge_one("guest.cpu", guest_case("lab-web-passthrough.xml", dst=other_cpu))
    stepping = judge_one("guest.cpu", guest_case("lab-web-passthrough.xml", dst=other_stepping))

    assert same.status == Status.PASS
    assert other.status == Status.FAIL and "Intel Skylake-Client differs (lacks invtsc)" in other.summary
    assert stepping.status == Status.WARN and "6/167/1 1 vs 6/167/2 1" in stepping.summary


# guest.machine
def test_a_machine_type_the_destination_lacks_fails_with_libvirts_words():
    xml = fixture("lab-db.xml").replace("machine='pc-i440fx-7.2'", "machine='pc-q35-8.2'")

    finding = judge_one("guest.machine", guest_case(guest=guest_entry() | {"xml": xml}))

    assert finding.status == Status.FAIL
    assert "Emulator '/usr/bin/qemu-system-x86_64' does not support machine type 'pc-q35-8.2'" in finding.summary


def test_a_kvm_guest_to_a_destination_without_kvm_fails_and_an_emulator_elsewhere_too():
    def no_kvm(facts):
        facts["virt"]["capabilities_xml"] = facts["virt"]["capabilities_xml"].replace("<domain type='kvm'/>", "")

    xml = fixture("lab-db.xml").replace("/usr/bin/qemu-system-x86_64", "/usr/libexec/qemu-kvm")

    no_kvm_finding = judge_one("guest.machine", guest_case(dst=no_kvm))
    elsewhere = judge_one("guest.machine", guest_case(guest=guest_entry() | {"xml": xml}))

    assert no_kvm_finding.status == Status.FAIL and "does not support virt type 'kvm'" in no_kvm_finding.summary
    assert elsewhere.status == Status.FAIL and "Cannot check QEMU binary /usr/libexec/qemu-kvm" in elsewhere.summary


# guest.storage
def test_the_same_storage_on_a_filesystem_libvirt_does_not_count_as_shared_fails_with_the_unsafe_fix():
    made = lookups(storage=[storage_lookup(fstype="ext4")])

    finding = judge_one("guest.storage", guest_case(made=made))

    assert finding.status == Status.FAIL
    assert "proven the same" in finding.summary
    assert "Unsafe migration: Migration without shared storage is unsafe" in finding.summary
    assert "--unsafe" in finding.remediation and "cache mode is none" in finding.remediation


def test_qemu_conf_shared_filesystems_makes_the_same_storage_shared():
    def listed(facts):
        facts["virt"]["shared_filesystems"] = ["/var/lib/libvirt/images"]

    made = lookups(storage=[storage_lookup(fstype="ext4")])

    assert judge_one("guest.storage", guest_case(dst=listed, made=made)).status == Status.PASS


def test_storage_only_the_source_has_names_copy_storage_all_and_the_space():
    made = lookups(storage=[storage_lookup(same=False, fstype="ext4", free_bytes=10 * GiB)])
    entry = guest_entry() | {
        "disks": [{"target": "vda", "allocation_bytes": 3 * GiB, "capacity_bytes": 8 * GiB, "physical_bytes": 8 * GiB}]
    }

    fits = judge_one("guest.storage", guest_case(guest=entry, made=made))
    short = judge_one(
        "guest.storage", guest_case(guest=entry, made=lookups(storage=[storage_lookup(same=False, free_bytes=GiB)]))
    )

    assert fits.status == Status.FAIL and "--copy-storage-all" in fits.summary and "3 GiB allocated" in fits.summary
    assert "10 GiB free" in fits.remediation
    assert short.status == Status.FAIL and "only 1 GiB free" in short.summary


def test_storage_nobody_could_compare_is_a_warning_never_a_pass():
    made = lookups(storage=[storage_lookup(same=None, fstype=None, error="marker: permission denied")])

    finding = judge_one("guest.storage", guest_case(made=made))

    assert finding.status == Status.WARN and "cannot tell" in finding.summary
    assert "marker: permission denied" in finding.summary


def test_network_disks_pass_without_a_storage_look_up():
    finding = judge_one("guest.storage", guest_case("rbd-disks.xml", made={}))

    assert finding.status == Status.PASS and "rbd:pool/image" in finding.summary


# guest.cache-mode
def test_host_caching_on_shared_storage_fails_before_qemu_drops_the_cache_and_passes_after():
    xml = fixture("lab-db.xml").replace("cache='none'", "cache='writeback'")
    entry = guest_entry() | {"xml": xml}

    def old_qemu(facts):
        facts["identity"]["hypervisor"]["libvirt"]["hypervisor_version"] = "2.12.0"

    old = judge_one("guest.cache-mode", guest_case(guest=entry, src=old_qemu))
    new = judge_one("guest.cache-mode", guest_case(guest=entry))

    assert old.status == Status.FAIL
    assert "Migration may lead to data corruption if disks use cache other than none or directsync" in old.summary
    assert new.status == Status.PASS and "drops the page cache" in new.summary


def test_host_caching_on_a_cluster_filesystem_passes_even_on_old_qemu():
    xml = fixture("lab-db.xml").replace("cache='none'", "cache='writeback'")

    def old_qemu(facts):
        facts["identity"]["hypervisor"]["libvirt"]["hypervisor_version"] = "2.12.0"

    made = lookups(storage=[storage_lookup(fstype="gfs2")])
    finding = judge_one("guest.cache-mode", guest_case(guest=guest_entry() | {"xml": xml}, src=old_qemu, made=made))

    assert finding.status == Status.PASS


# guest.memory
def test_memory_the_destination_lacks_after_the_guests_planned_there_fails():
    def tight(facts):
        facts["virt"]["free_memory_bytes"] = 200 * 1024**2

    def planned(facts):
        facts["guests"].append(guest_entry(name="web", memory_kib=131072))

    alone = judge_one("guest.memory", guest_case(dst=tight))
    after_web = judge_one("guest.memory", guest_case(src=planned, dst=tight, others=("web",)))

    assert alone.status == Status.PASS
    assert after_web.status == Status.FAIL and "after web" in after_web.summary


def test_a_hugepage_backed_guest_leaves_memory_to_the_hugepages_check():
    assert judge_one("guest.memory", guest_case("hugepages-2m.xml")).status == Status.SKIP


# guest.hugepages
def test_hugepages_the_destination_has_not_reserved_fail_and_reserved_ones_pass():
    def reserved(facts):
        facts["virt"]["hugepages_free"]["2048"] = 512

    none_free = judge_one("guest.hugepages", guest_case("hugepages-2m.xml"))
    enough = judge_one("guest.hugepages", guest_case("hugepages-2m.xml", dst=reserved))

    assert none_free.status == Status.FAIL and "needs 512" in none_free.summary
    assert "hugepages-2048kB/nr_hugepages" in none_free.remediation
    assert enough.status == Status.PASS


def test_hugepages_taken_by_a_guest_planned_there_earlier_count_and_ordinary_memory_does_not():
    def reserved(facts):
        facts["virt"]["hugepages_free"]["2048"] = 600
        facts["virt"]["free_memory_bytes"] = 200 * 1024**2

    def planned(facts):
        facts["guests"].append(guest_entry("hugepages-2m.xml", name="earlier"))

    pages = judge_one("guest.hugepages", guest_case("hugepages-2m.xml", src=planned, dst=reserved, others=("earlier",)))
    memory = judge_one("guest.memory", guest_case(src=planned, dst=reserved, others=("earlier",)))

    assert pages.status == Status.FAIL and "has 88 free 2048 KiB hugepages; db needs 512" in pages.summary
    assert "raise /sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages by 424" in pages.remediation
    assert memory.status == Status.PASS


# guest.networks
def test_a_bridge_the_destination_lacks_fails_with_libvirts_words():
    xml = fixture("lab-db.xml").replace("bridge='br-mig'", "bridge='br-app'")

    finding = judge_one("guest.networks", guest_case(guest=guest_entry() | {"xml": xml}))

    assert finding.status == Status.FAIL
    assert "Cannot get interface MTU on 'br-app': No such device" in finding.summary


def test_a_bridge_with_a_smaller_mtu_fails():
    xml = fixture("lab-db.xml").replace("<mtu size='1500'/>", "<mtu size='9000'/>")

    finding = judge_one("guest.networks", guest_case(guest=guest_entry() | {"xml": xml}))

    assert finding.status == Status.FAIL and "MTU 1500 is below db's 9000" in finding.summary


def test_a_libvirt_network_missing_or_inactive_fails_and_an_active_one_passes():
    xml = (
        fixture("lab-db.xml")
        .replace("<interface type='bridge'>", "<interface type='network'>")
        .replace("<source bridge='br-mig'/>", "<source network='app'/>")
    )
    entry = guest_entry() | {"xml": xml}

    def network(active):
        def mutate(facts):
            facts["virt"]["networks"] = [{"name": "app", "active": active, "bridge": "br-mig", "portgroups": []}]

        return mutate

    missing = judge_one("guest.networks", guest_case(guest=entry))
    inactive = judge_one("guest.networks", guest_case(guest=entry, dst=network(False)))
    active = judge_one("guest.networks", guest_case(guest=entry, dst=network(True)))

    assert missing.status == Status.FAIL and "no network with matching name 'app'" in missing.summary
    assert inactive.status == Status.FAIL and "network 'app' is not active" in inactive.summary
    assert active.status == Status.PASS


# guest.secrets
@pytest.mark.parametrize(
    ("xml", "uuid"),
    [
        ("luks-disks.xml", "0a81f5b2-8403-7b23-c8d6-21ccc2f80d6f"),
        ("tpm-encrypted.xml", "32ee7e76-2178-47a1-ab7b-269e6e348015"),
    ],
    ids=["luks", "vtpm"],
)
def test_secrets_the_destination_lacks_fail_and_defined_ones_pass(xml, uuid):
    def defined(facts):
        facts["virt"]["secrets"] = [
            {"uuid": uuid, "usage_type": "volume", "usage_id": "/storage/guest_disks/encryptdisk"},
            {
                "uuid": "6e0f5c9e-0000-4000-8000-000000000002",
                "usage_type": "volume",
                "usage_id": "/storage/guest_disks/encryptdisk2",
            },
        ]

    missing = judge_one("guest.secrets", guest_case(xml))
    present = judge_one("guest.secrets", guest_case(xml, dst=defined))

    assert missing.status == Status.FAIL and f"no secret with matching uuid '{uuid}'" in missing.summary
    assert present.status == Status.PASS


def test_an_rbd_secret_by_usage_is_looked_up_by_usage():
    def ceph(facts):
        facts["virt"]["secrets"] = [
            {"uuid": "6e0f5c9e-0000-4000-8000-000000000003", "usage_type": "ceph", "usage_id": "mycluster_myname"}
        ]

    assert judge_one("guest.secrets", guest_case("rbd-disks.xml")).status == Status.FAIL
    assert judge_one("guest.secrets", guest_case("rbd-disks.xml", dst=ceph)).status == Status.PASS


# What the lab's libvirt 9.0 itself answered when each guest was migrated with virsh (no-kvm-destination).
ANSWERS = json.loads(fixture("lab-libvirt-answers.json"))


def libvirt_said(guest: str) -> str:
    """The error virsh printed for GUEST, without virsh's `error: ` and libvirt's error-class prefix."""
    answer = ANSWERS["migrate"][guest]
    assert answer["exit_status"] == 1
    words = answer["output"].removeprefix("error: ")
    for prefix in ("unsupported configuration: ", "Requested operation is not valid: "):
        words = words.removeprefix(prefix)
    return words


def no_kvm(facts):
    facts["virt"]["capabilities_xml"] = fixture("lab-capabilities-no-kvm.xml")
    facts["virt"]["domain_capabilities"]["kvm"] = None


def test_the_lab_db_on_local_storage_fails_as_libvirt_refused_it():
    local = lookups(storage=[storage_lookup(same=False, fstype="ext4")])

    finding = judge_one("guest.storage", guest_case(dst=no_kvm, made=local))

    assert finding.status == Status.FAIL
    assert libvirt_said("db") in finding.summary and "--copy-storage-all" in finding.summary


def test_the_lab_host_passthrough_web_to_a_destination_without_kvm_fails_as_libvirt_refused_it():
    case = guest_case("lab-web-passthrough.xml", dst=no_kvm, made={})

    machine = judge_one("guest.machine", case)
    cpu = judge_one("guest.cpu", case)

    assert machine.status == Status.FAIL and libvirt_said("web") in machine.summary
    assert cpu.status == Status.FAIL and "needs KVM" in cpu.summary


def test_the_lab_invtsc_guest_fails_as_libvirt_refused_it():
    finding = judge_one("guest.libvirt-refuses", guest_case("lab-tsc-invtsc.xml"))

    assert finding.status == Status.FAIL and libvirt_said("tsc") in finding.summary


def test_the_lab_guests_libvirt_let_through_its_checks_pass_on_a_kvm_destination():
    assert judge_one("guest.machine", guest_case("lab-web-passthrough.xml")).status == Status.PASS
    assert judge_one("guest.cpu", guest_case("lab-web-passthrough.xml")).status == Status.PASS


SCENARIOS = ("guests", "guests-no-kvm-destination")


def scenario_cases(scenario):
    """(guest name, its case hosta -> hostb, what virsh migrate then answered) of a lab scenario."""
    captured = json.loads(fixture(f"lab-scenario-{scenario}.json"))
    hosta, hostb = captured["facts"]["hosta"], captured["facts"]["hostb"]
    for entry in hosta["guests"]:
        case = GuestCase(entry, hosta, hostb, "hosta", "hostb", captured["lookups"][entry["name"]])
        yield entry["name"], case, captured["virsh_migrate"][entry["name"]]


@pytest.mark.parametrize(
    ("scenario", "guest"),
    [(scenario, name) for scenario in SCENARIOS for name, _, _ in scenario_cases(scenario)],
)
def test_each_lab_guests_verdict_agrees_with_what_virsh_migrate_then_did(scenario, guest):
    name, case, virsh = next(item for item in scenario_cases(scenario) if item[0] == guest)

    findings = judge_guest(list(GUEST_CHECKS.values()), case, set())

    failing = [f for f in findings if f.status in (Status.FAIL, Status.ERROR)]
    if virsh["exit_status"] == 0:
        assert failing == []
    else:
        words = virsh["output"].removeprefix("error: ").removeprefix("unsupported configuration: ")
        assert any(words in f.summary for f in failing), (words, [f.summary for f in failing])
