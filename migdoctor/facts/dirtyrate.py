"""What a guest's migration would have to carry, asked from the source's libvirt: how fast the
guest dirties its memory, how much of it is in use, and the downtime limit and speed cap its next
migration starts with (the `migration` part of a guest's facts).

The dirty rate is QEMU's own measurement (libvirt >= 7.2 `virDomainStartDirtyRateCalc`, read
back from the `dirtyrate.*` domain stats), made inside the guest's QEMU over one period. In
dirty-bitmap mode (libvirt >= 8.1, QEMU >= 6.2) QEMU switches KVM's dirty logging on for the period,
as a migration does, and counts the 4 KiB pages written: exactly what a migration's rounds resend
(the guest's first write to each page in that second traps to KVM; nothing else changes for it).
Where that mode is refused, page-sampling mode: QEMU hashes 512 sampled pages per GiB at the start
and the end of the period and scales the share that changed, which is coarse for small guests (the
lab's guests dirtying 2, 30 and 200 MiB/s read 4, 40 and 192). `dirty_rate_mode` says which ran.
It is never started while a job (a migration, a save, a dump) runs on the guest. The calculations
of all guests start together and are read back together, so N guests take one period, not N.

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
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from migdoctor.facts.gaps import Gaps

PERIOD_S = 1  # QEMU's shortest calculation (calc-time is in whole seconds before QEMU 8.2)
READ_BACK_S = 2.0  # after the period, how long a calculation may take to report measured
POLL_S = 0.005  # QEMU reports a calculation measured 10-40 ms after its period, the last thing a run waits for
START_THREADS = 5  # libvirtd serves at most 5 calls of one connection at once (max_client_requests)

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


def limits(dom: Any) -> dict[str, Any]:
    """The downtime limit, speed cap and memory in use (rss, else current memory) of DOM's next
    migration; with_resident puts the RAM mapping's figure in when the far side has it."""
    memory = dom.info()[2] * 1024
    rss_kib = dom.memoryStats().get("rss")
    return {
        "max_downtime_ms": dom.migrateGetMaxDowntime(0),
        "max_speed_mib_s": dom.migrateGetMaxSpeed(0),
        "memory_in_use_bytes": min(rss_kib * 1024, memory) if rss_kib else memory,
        "memory_in_use_source": "rss" if rss_kib else "current-memory",
    }


def with_resident(entry: dict[str, Any], resident: dict[str, Any] | None) -> None:
    """ENTRY's memory in use from the far side's `guest-ram` answer for it, when it has one."""
    migration = entry.get("migration")
    if migration and resident and resident.get("resident_bytes") is not None:
        migration["memory_in_use_bytes"] = min(resident["resident_bytes"], entry["memory_kib"] * 1024)
        migration["memory_in_use_source"] = "qemu-ram-mapping"


def not_measured(reason: str, period_s: float) -> dict[str, Any]:
    return {"dirty_rate_mib_s": None, "dirty_rate_error": reason, "dirty_rate_period_s": float(period_s)}


@dataclass
class Measuring:
    """Dirty-rate calculations started at AT (time.monotonic) on the guests in STARTED; the
    other DOMAINS' reasons for not measuring in NOT_STARTED (by guest name)."""

    conn: Any
    domains: dict[str, Any]  # name -> virDomain, every guest asked for
    started: dict[str, Any]
    not_started: dict[str, str]
    at: float
    period_s: int
    modes: dict[str, str] = field(default_factory=dict)  # name -> the mode its calculation runs in

    def close(self) -> None:
        """Drop the guests' domains, then close the connection: libvirt closes it only once no
        domain holds it, and a far side carrying it waits for that before it ends."""
        import libvirt

        self.domains.clear()
        self.started.clear()
        with suppress(libvirt.libvirtError):
            self.conn.close()

    def finish(self, sleep: Callable[[float], None] = time.sleep) -> dict[str, dict[str, Any]]:
        """Each guest's dirty_rate_mib_s / dirty_rate_error / dirty_rate_period_s, waiting what is
        left of the period once for all, then at most READ_BACK_S for those still measuring."""
        import libvirt

        found = {name: not_measured(reason, self.period_s) for name, reason in self.not_started.items()}
        pending = dict(self.started)
        deadline = self.at + self.period_s + READ_BACK_S
        sleep(max(0.0, self.at + self.period_s - time.monotonic()))
        while pending:
            try:
                stats = self.conn.domainListGetStats(list(pending.values()), libvirt.VIR_DOMAIN_STATS_DIRTYRATE)
            except libvirt.libvirtError as exc:
                found |= {
                    name: not_measured(f"dirty-rate stats: {exc.get_error_message()}", self.period_s)
                    for name in pending
                }
                break
            for dom, values in stats:
                if values.get("dirtyrate.calc_status") == libvirt.VIR_DOMAIN_DIRTYRATE_MEASURED:
                    found[dom.name()] = {
                        "dirty_rate_mib_s": float(values["dirtyrate.megabytes_per_second"]),
                        "dirty_rate_error": None,
                        "dirty_rate_period_s": float(values.get("dirtyrate.calc_period", self.period_s)),
                        "dirty_rate_mode": self.modes.get(dom.name(), "page-sampling"),
                    }
                    pending.pop(dom.name(), None)
            if pending and time.monotonic() >= deadline:
                reason = f"QEMU had not measured the dirty rate {self.period_s + READ_BACK_S:g} s after starting"
                found |= {name: not_measured(reason, self.period_s) for name in pending}
                break
            if pending:
                sleep(POLL_S)
        return found


def start_dirty_rates(conn: Any, domains: list[Any], period_s: int = PERIOD_S) -> Measuring:
    """Start QEMU's dirty-rate calculation on each of DOMAINS that runs no job, START_THREADS at a
    time on the one connection (each guest is two round trips, and the measurement's period ends
    only after the last start); the caller does other work, then Measuring.finish."""
    by_name = {dom.name(): dom for dom in domains}
    with ThreadPoolExecutor(max(1, min(len(domains), START_THREADS))) as pool:
        started_in = pool.map(partial(start_if_idle, period_s=period_s), by_name.values())
        outcomes = dict(zip(by_name, started_in, strict=True))
    modes = {name: mode for name, (mode, _) in outcomes.items() if mode}
    not_started = {name: reason for name, (_, reason) in outcomes.items() if reason}
    started = {name: by_name[name] for name in modes}
    return Measuring(conn, by_name, started, not_started, time.monotonic(), period_s, modes)


def start_if_idle(dom: Any, period_s: int) -> tuple[str | None, str | None]:
    """(the mode DOM's calculation started in, None), or (None, why it was not started)."""
    import libvirt

    try:
        job = running_job(dom)
        if job:
            return None, f"not measured: {job} job running on the guest"
        return start_calculation(dom, period_s), None
    except libvirt.libvirtError as exc:
        return None, f"cannot measure the dirty rate: {exc.get_error_message()}"


def start_calculation(dom: Any, period_s: int) -> str:
    """Start DOM's calculation in dirty-bitmap mode, else in page-sampling mode; the mode started."""
    import libvirt

    try:
        dom.startDirtyRateCalc(period_s, libvirt.VIR_DOMAIN_DIRTYRATE_MODE_DIRTY_BITMAP)
        return "dirty-bitmap"
    except libvirt.libvirtError:
        dom.startDirtyRateCalc(period_s, libvirt.VIR_DOMAIN_DIRTYRATE_MODE_PAGE_SAMPLING)
        return "page-sampling"


def add_limits(entries: list[dict[str, Any]], measuring: Measuring, gaps: Gaps) -> None:
    """Each guest ENTRY's `migration` part without its dirty rate (add_rates). A guest whose
    limits libvirt does not give has the gap `guests.NAME.migration` instead."""
    for entry in entries:
        dom = measuring.domains.get(entry["name"])
        if dom is None:  # started after the calculations were
            gaps.add(f"guests.{entry['name']}.migration", "the guest started while the dirty rates were measured")
            continue
        found = gaps.attempt(f"guests.{entry['name']}.migration", partial(limits, dom))
        if found is not None:
            entry["migration"] = found


def add_rates(entries: list[dict[str, Any]], measuring: Measuring, sleep: Callable[[float], None] = time.sleep) -> None:
    """Each measured rate into its guest ENTRY's `migration` part, waiting what is left of the period."""
    for name, rate in measuring.finish(sleep).items():
        for entry in entries:
            if entry["name"] == name and "migration" in entry:
                entry["migration"] |= rate
