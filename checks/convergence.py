"""Whether a guest's live migration converges, and within the maintenance window: QEMU's pre-copy
predicted from the guest's dirty rate and memory in use, the pair's measured bandwidth and the
guest's downtime limit (migdoctor/judging/precopy.py has the model and its sources)."""

from __future__ import annotations

from typing import Any

from migdoctor.checkapi import Evidence, Outcome, Registry, Skip, failed, passed, warned
from migdoctor.judging.convergence import prediction, recommendations
from migdoctor.judging.guest import GuestCase
from migdoctor.units import human_bytes

registry = Registry(order=140)


def figures(case: GuestCase, found: dict[str, Any]) -> tuple[Evidence, ...]:
    migration, src = case.guest["migration"], case.src_label
    terms = case.convergence
    assert terms is not None
    share = f", 1/{terms.parallel} of {terms.bandwidth.mbps:g}" if terms.parallel > 1 else ""
    return (
        Evidence(
            src,
            f"{case.name} dirty rate (MiB/s, over {migration['dirty_rate_period_s']:g} s)",
            found["dirty_rate_mib_s"],
        ),
        Evidence(
            src,
            f"{case.name} memory in use ({migration.get('memory_in_use_source', 'rss')})",
            human_bytes(migration["memory_in_use_bytes"]),
        ),
        Evidence(src, f"{case.name} downtime limit (ms)", migration["max_downtime_ms"]),
        Evidence(
            src, f"stream to {case.dst_label} (Mb/s, {found['bandwidth_source']}{share})", found["bandwidth_mbps"]
        ),
    )


@registry.check(
    "guest.convergence",
    "The guest's live migration converges, within the maintenance window",
    "high",
    needs=("guest.migration", "guest.memory_kib"),
    scope="guest",
    description=(
        "the guest dirties its memory so fast that QEMU's pre-copy never gets what is left under the downtime "
        "limit at the bandwidth measured to the destination, or its predicted migration ends after `--window` "
        "in the evacuation's schedule (`--parallel` guests at once, sharing the bandwidth)"
    ),
    rationale=(
        "QEMU stops the guest only once `pending < bandwidth * downtime_limit` (migration/migration.c); a guest "
        "dirtying faster runs until it is cancelled: a 32 GiB guest had sent 40.6 GiB at 34 MiB/s after 20 "
        "minutes (forum.proxmox.com thread 106206), KubeVirt aborts such migrations at their time-out (kubevirt "
        "3504). Nova, Proxmox, oVirt and vCenter see it only while the migration runs"
    ),
    fix=(
        "raise the downtime limit (virsh migrate-setmaxdowntime), --auto-converge, --postcopy "
        "--postcopy-after-precopy, --parallel --parallel-connections N, a faster migration network, or "
        "migrating the guest first or alone; the finding names the values"
    ),
)
def convergence(case: GuestCase) -> Outcome:
    terms = case.convergence
    if terms is None:
        raise Skip(f"nothing to predict {case.name}'s migration to {case.dst_label} with (no pair measured)")
    found = prediction(case.guest, terms.bandwidth, terms.parallel)
    if "reason" in found:
        raise Skip(f"{case.name} -> {case.dst_label} not predicted: {found['reason']}")
    evidence = figures(case, found)
    if not found["converges"]:
        fixes = recommendations(case.guest, terms.bandwidth.mbps or 0, terms.link_mbps, terms.dst_uri, terms.parallel)
        return failed(
            f"guest {case.name} will not converge to {case.dst_label}: {found['why_not']}",
            *evidence,
            remediation="; ".join(fixes),
        )
    said = (
        f"{case.name} -> {case.dst_label}: {found['rounds']} round{'s' if found['rounds'] > 1 else ''}, "
        f"{found['total_s']:g} s, {human_bytes(found['data_bytes'])} sent, {found['downtime_ms']:g} ms downtime"
    )
    evidence += (Evidence(case.src_label, f"{case.name} predicted (s)", found["total_s"]),)
    if terms.window_s is not None and terms.ends_at_s is not None and terms.ends_at_s > terms.window_s:
        return failed(
            f"{said}, but in the evacuation's schedule it ends at {terms.ends_at_s:g} s, after the "
            f"{terms.window_s:g} s window",
            *evidence,
            Evidence(case.src_label, f"{case.name} ends at (s)", round(terms.ends_at_s, 3), f"<= {terms.window_s:g}"),
            remediation=(
                f"migrate {case.name} first (it takes {found['total_s']:g} s of the window), lengthen the window, "
                f"or a faster migration network than {found['bandwidth_mbps']:g} Mb/s"
            ),
        )
    if found["bandwidth_source"] == "link-speed":
        return warned(
            f"{said}, predicted on {case.dst_label}'s link speed, not a measured rate (run the probe or "
            "--test-migration)",
            *evidence,
        )
    return passed(said, *evidence)
