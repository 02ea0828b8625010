"""What a guest's migration would have to carry, asked from the source's libvirt: how fast the
guest dirties its memory, how much of it is in use, and the downtime limit and speed cap its next
migration starts with (the `migration` part of a guest's facts).

The dirty rate is QEMU's own measurement (libvirt >= 7.2 `virDomainStartDirtyRateCalc`, read
back from the `dirtyrate.*` domain stats): QEMU hashes sampled pages of the running guest at the
start and the end of a period (migration/dirtyrate.c, page-sampling mode, the least intrusive:
no dirty logging is switched on). It runs inside the guest's QEMU; it is never started while a
job (a migration, a save, a dump) runs on that guest. The calculations of all guests start
together and are read back together, so N guests take one period, not N.

Memory in use: QEMU sends a page that reads as zero as a 9-byte marker, and no libvirt call says
how many pages are zero. Pages the guest never touched are zero and not resident, so the resident
part of the guest's RAM mapping in its QEMU process (the far side's `guest-ram`, from
/proc/PID/smaps: migdoctor/farside/guestram.py) bounds the pages sent in full from above (touched
pages that are zero again count too). Without it: the QEMU process's resident set
(`virDomainMemoryStats` `rss`, which also counts QEMU's own memory and ROM images: a 128 MiB
guest with 64 MiB in use shows 161 MiB), capped at the guest's current memory; without that, the
current memory. Not the balloon's `unused`: that is the guest's view of free memory, and freed
pages keep their old bytes and are sent in full."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

PERIOD_S = 1  # QEMU's shortest calculation (calc-time is in whole seconds before QEMU 8.2)
READ_BACK_S = 2.0  # after the period, how long a calculation may take to report measured

JOB_OPERATIONS = {  # libvirt's virDomainJobOperation
    1: "start",
    2: "save",
    3: "restore",
    4: "incoming migration",
    5: "outgoing migration",
    6: "snapshot",
    7: "snapshot revert",
    8: "dump",
    9: "backup",
    10: "snapshot delete",
}


def running_job(dom: Any) -> str | None:
    """The job running on DOM, named, or None (virDomainGetJobStats)."""
    import libvirt

    stats = dom.jobStats()
    if stats.get("type", libvirt.VIR_DOMAIN_JOB_NONE) == libvirt.VIR_DOMAIN_JOB_NONE:
        return None
    return JOB_OPERATIONS.get(stats.get("operation", 0), "a")


def limits(dom: Any, resident_bytes: int | None = None) -> dict[str, Any]:
    """The downtime limit, speed cap and memory in use of DOM's next migration; RESIDENT_BYTES is
    the resident part of its RAM mapping when the far side could read it."""
    memory = dom.info()[2] * 1024
    if resident_bytes is not None:
        in_use, source = min(resident_bytes, memory), "qemu-ram-mapping"
    elif rss_kib := dom.memoryStats().get("rss"):
        in_use, source = min(rss_kib * 1024, memory), "rss"
    else:
        in_use, source = memory, "current-memory"
    return {
        "max_downtime_ms": dom.migrateGetMaxDowntime(0),
        "max_speed_mib_s": dom.migrateGetMaxSpeed(0),
        "memory_in_use_bytes": in_use,
        "memory_in_use_source": source,
    }


@dataclass
class Measuring:
    """Dirty-rate calculations started on some guests at STARTED (time.monotonic), the others'
    reasons for not measuring in NOT_STARTED (by guest name)."""

    conn: Any
    started: dict[str, Any]  # name -> virDomain
    not_started: dict[str, str]
    at: float
    period_s: int

    def finish(self, sleep: Callable[[float], None] = time.sleep) -> dict[str, dict[str, Any]]:
        """Each guest's dirty_rate_mib_s / dirty_rate_error / dirty_rate_period_s, waiting what is
        left of the period once for all, then at most READ_BACK_S for those still measuring."""
        import libvirt

        found = {
            name: {"dirty_rate_mib_s": None, "dirty_rate_error": reason, "dirty_rate_period_s": float(self.period_s)}
            for name, reason in self.not_started.items()
        }
        pending = dict(self.started)
        deadline = self.at + self.period_s + READ_BACK_S
        sleep(max(0.0, self.at + self.period_s - time.monotonic()))
        while pending:
            try:
                stats = self.conn.domainListGetStats(list(pending.values()), libvirt.VIR_DOMAIN_STATS_DIRTYRATE)
            except libvirt.libvirtError as exc:
                reason = f"dirty-rate stats: {exc.get_error_message()}"
                stats = []
                found.update({name: self.failed(reason) for name in pending})
                pending.clear()
            for dom, values in stats:
                if values.get("dirtyrate.calc_status") == libvirt.VIR_DOMAIN_DIRTYRATE_MEASURED:
                    found[dom.name()] = {
                        "dirty_rate_mib_s": float(values["dirtyrate.megabytes_per_second"]),
                        "dirty_rate_error": None,
                        "dirty_rate_period_s": float(values.get("dirtyrate.calc_period", self.period_s)),
                    }
                    pending.pop(dom.name(), None)
            if pending and time.monotonic() >= deadline:
                reason = f"QEMU had not measured the dirty rate {self.period_s + READ_BACK_S:g} s after starting"
                found.update({name: self.failed(reason) for name in pending})
                pending.clear()
            if pending:
                sleep(0.1)
        return found

    def failed(self, reason: str) -> dict[str, Any]:
        return {"dirty_rate_mib_s": None, "dirty_rate_error": reason, "dirty_rate_period_s": float(self.period_s)}


def start_dirty_rates(conn: Any, domains: list[Any], period_s: int = PERIOD_S) -> Measuring:
    """Start QEMU's dirty-rate calculation on each of DOMAINS that runs no job; the caller does
    other work, then Measuring.finish."""
    import libvirt

    started, not_started = {}, {}
    for dom in domains:
        try:
            job = running_job(dom)
            if job:
                not_started[dom.name()] = f"not measured: {job} job running on the guest"
                continue
            dom.startDirtyRateCalc(period_s, libvirt.VIR_DOMAIN_DIRTYRATE_MODE_PAGE_SAMPLING)
            started[dom.name()] = dom
        except libvirt.libvirtError as exc:
            not_started[dom.name()] = f"cannot measure the dirty rate: {exc.get_error_message()}"
    return Measuring(conn, started, not_started, time.monotonic(), period_s)


def migration_facts(
    conn: Any,
    domains: list[Any],
    resident: dict[str, dict[str, Any]] | None = None,
    period_s: int = PERIOD_S,
    sleep: Callable[[float], None] = time.sleep,
) -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
    """({name: migration part}, {name: why it is missing}) for DOMAINS of CONN: the limits
    read while the dirty rates are measured, all guests at once. RESIDENT is the source far
    side's `guest-ram` answer (by name), when it gave one."""
    import libvirt

    measuring = start_dirty_rates(conn, domains, period_s)
    parts, missing = {}, {}
    for dom in domains:
        try:
            parts[dom.name()] = limits(dom, ((resident or {}).get(dom.name()) or {}).get("resident_bytes"))
        except libvirt.libvirtError as exc:
            missing[dom.name()] = f"migration limits: {exc.get_error_message()}"
    for name, rate in measuring.finish(sleep).items():
        if name in parts:
            parts[name].update(rate)
    return parts, missing
