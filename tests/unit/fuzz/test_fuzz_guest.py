"""The guest checks over schema-valid guest entries and virt facts and look-ups of the shape the
pair's look-ups give, made at random (hypothesis) from the lab's captured guest and libvirt's test
XML: no guest check raises (an ERROR), and storage nobody could compare is never a PASS."""

from __future__ import annotations

from typing import Any

from guest_records import FIXTURES, GUEST_CHECKS, guest_case, guest_entry, virt_record
from hypothesis import assume, given
from hypothesis import strategies as st

from migdoctor.checkapi import Status
from migdoctor.engine import judge_guest
from migdoctor.frozen import thaw
from migdoctor.schemas import facts_problem

DOMAINS = sorted(
    path.name for path in FIXTURES.glob("*.xml") if "capabilities" not in path.name and "domcaps" not in path.name
)
TEXT = st.text(max_size=12) | st.sampled_from(["", "br-mig", "vda", "nfs", "ext4", "\x1b[2J", "a" * 200])
SIZES = st.integers(0, 2**62)
FSTYPES = st.none() | st.sampled_from(["nfs", "ext4", "gfs2", "xfs", "fuse.glusterfs", "tmpfs"]) | st.text(max_size=8)
TARGETS = st.sampled_from(["vda", "vdb", "hda", "vde", "sda"])


@st.composite
def virt(draw: st.DrawFn) -> dict[str, Any]:
    record = virt_record()
    record["free_memory_bytes"] = draw(SIZES)
    record["hugepages_free"] = draw(st.dictionaries(st.sampled_from(["2048", "1048576", "4"]), SIZES, max_size=3))
    record["networks"] = draw(
        st.lists(
            st.fixed_dictionaries(
                {
                    "name": TEXT,
                    "active": st.booleans(),
                    "bridge": st.none() | TEXT,
                    "portgroups": st.lists(TEXT, max_size=2),
                }
            ),
            max_size=3,
        )
    )
    record["secrets"] = draw(
        st.lists(
            st.fixed_dictionaries({"uuid": TEXT, "usage_type": st.none() | TEXT, "usage_id": st.none() | TEXT}),
            max_size=3,
        )
    )
    record["shared_filesystems"] = draw(st.none() | st.lists(TEXT, max_size=2))
    if draw(st.booleans()):
        record["domain_capabilities"]["kvm"] = None
    if draw(st.booleans()):
        record["capabilities_xml"] = (FIXTURES / "lab-capabilities-no-kvm.xml").read_text()
    return record


@st.composite
def lookups(draw: st.DrawFn) -> dict[str, Any]:
    made: dict[str, Any] = {}
    if draw(st.booleans()):
        made["cpu"] = {
            "result": draw(st.sampled_from(["identical", "superset", "incompatible", "error", "not-compared"])),
            "message": draw(st.none() | TEXT),
            "baseline_xml": draw(
                st.none() | st.sampled_from(["<cpu><model>Skylake-Server</model></cpu>", "<cpu/>", "<model"])
            ),
        }
    if draw(st.booleans()):
        made["storage"] = draw(
            st.lists(
                st.fixed_dictionaries(
                    {
                        "target": TARGETS,
                        "path": TEXT,
                        "same": st.none() | st.booleans(),
                        "fstype": FSTYPES,
                        "free_bytes": st.none() | SIZES,
                        "error": st.none() | TEXT,
                    }
                ),
                max_size=4,
            )
        )
    return made


@st.composite
def guest(draw: st.DrawFn) -> dict[str, Any]:
    return guest_entry(draw(st.sampled_from(DOMAINS))) | {
        "snapshots": draw(st.integers(0, 5)),
        "block_jobs": draw(st.lists(st.fixed_dictionaries({"disk": TARGETS, "type": TEXT}), max_size=2)),
        "disks": draw(
            st.lists(
                st.fixed_dictionaries(
                    {"target": TARGETS, "allocation_bytes": SIZES, "capacity_bytes": SIZES, "physical_bytes": SIZES}
                ),
                max_size=3,
            )
        ),
        "memory_kib": draw(st.integers(0, 2**40)),
    }


@given(guest(), virt(), lookups(), st.sampled_from(["2.12.0", "5.2.0", "7.2.22", "9.1.0"]), st.booleans())
def test_no_guest_check_raises_on_facts_of_the_schemas_shapes(entry, record, made, qemu, planned):
    def source(facts):
        facts["identity"]["hypervisor"]["libvirt"]["hypervisor_version"] = qemu
        if planned:
            facts["guests"].append(guest_entry("hugepages-2m.xml", name="earlier"))

    def destination(facts):
        facts["virt"] = record

    case = guest_case(guest=entry, src=source, dst=destination, made=made, others=("earlier",) if planned else ())

    assume(facts_problem(thaw(case.src)) is None and facts_problem(thaw(case.dst)) is None)

    findings = judge_guest(list(GUEST_CHECKS.values()), case, set())

    assert [(f.id, f.summary) for f in findings if f.status == Status.ERROR] == []
    storage = next(f for f in findings if f.id == "guest.storage")
    compared = {e["target"]: e["same"] for e in made.get("storage", ())}
    if storage.status == Status.PASS and any(
        compared.get(d.target, "absent") is None for d in case.domain.disks if d.type == "file"
    ):
        raise AssertionError(f"storage nobody compared passed: {storage.summary}")
