"""Whether the destination can run what the source sends: same hypervisor, not older versions."""

from __future__ import annotations

from migdoctor.checkapi import Evidence, Outcome, Registry, failed, passed
from migdoctor.judging.pair import Pair

registry = Registry(order=80)


def version_tuple(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split("."))


@registry.check(
    "compat.versions",
    "Both hosts run the same hypervisor, the destination's libvirt and QEMU no older than the source's",
    "high",
    needs=("src.identity.hypervisor.libvirt", "dst.identity.hypervisor.libvirt"),
    description="the hosts run different hypervisors, or the destination's libvirt or QEMU is older than the source's",
    rationale=(
        "Migration to an older QEMU or libvirt can fail on machine types, devices or CPU features the "
        "destination does not know (`guest CPU doesn't match specification: missing features`, kubevirt "
        "12519; OpenNebula/one 1688)"
    ),
    fix=(
        "upgrade the destination's libvirt and QEMU to at least the source's, or migrate between hosts of the "
        "same versions"
    ),
)
def versions(pair: Pair) -> Outcome:
    src, dst = pair.src["identity"]["hypervisor"], pair.dst["identity"]["hypervisor"]
    evidence = [
        Evidence(pair.dst_label, "hypervisor kinds", dst["kinds"], src["kinds"]),
        Evidence(pair.dst_label, "libvirt version", dst["libvirt"]["version"], f">= {src['libvirt']['version']}"),
        Evidence(
            pair.dst_label,
            "QEMU version",
            dst["libvirt"]["hypervisor_version"],
            f">= {src['libvirt']['hypervisor_version']}",
        ),
    ]
    problems = []
    if not set(src["kinds"]) & set(dst["kinds"]):
        problems.append(
            f"hypervisors differ: {pair.src_label} {src['kinds'] or 'none'}, {pair.dst_label} {dst['kinds'] or 'none'}"
        )
    for key, name in (("version", "libvirt"), ("hypervisor_version", "QEMU")):
        if version_tuple(dst["libvirt"][key]) < version_tuple(src["libvirt"][key]):
            problems.append(
                f"{pair.dst_label}'s {name} {dst['libvirt'][key]} is older than {pair.src_label}'s {src['libvirt'][key]}"
            )
    if problems:
        return failed(
            "; ".join(problems),
            *evidence,
            remediation=f"{pair.dst_label}: upgrade libvirt/QEMU to at least the source's versions",
        )
    return passed(
        f"both run {'/'.join(dst['kinds'])}; {pair.dst_label} libvirt {dst['libvirt']['version']}, QEMU {dst['libvirt']['hypervisor_version']}",
        *evidence,
    )
