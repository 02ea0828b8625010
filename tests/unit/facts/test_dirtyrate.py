"""The migration part of guest facts over libvirt-python's own call shapes (a stand-in domain and
connection answering as libvirt 9.0 does; the lab's guests check the real calls)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import libvirt

from migdoctor.facts.dirtyrate import add_limits, add_rates, start_dirty_rates, with_resident
from migdoctor.facts.gaps import Gaps


@dataclass
class Domain:
    """Answers like a virDomain: JOB is jobStats()' answer, RATE the MiB/s QEMU measures,
    MEASURED_AFTER how many stats reads it takes before QEMU reports it."""

    label: str
    rate: int = 5
    job: dict[str, int] = field(default_factory=lambda: {"type": libvirt.VIR_DOMAIN_JOB_NONE})
    rss_kib: int | None = 300_000
    memory_kib: int = 1_048_576
    refuse_calc: str | None = None
    refuse_bitmap: bool = False
    measured_after: int = 0
    calls: list[str] = field(default_factory=list)

    def name(self) -> str:
        return self.label

    def jobStats(self) -> dict[str, int]:  # noqa: N802 - libvirt's name
        return self.job

    def startDirtyRateCalc(self, seconds: int, flags: int) -> int:  # noqa: N802
        self.calls.append(f"start {seconds} {flags}")
        if self.refuse_bitmap and flags == libvirt.VIR_DOMAIN_DIRTYRATE_MODE_DIRTY_BITMAP:
            raise libvirt.libvirtError("unsupported configuration: dirty-bitmap mode needs QEMU 6.2")
        if self.refuse_calc:
            error = libvirt.libvirtError(self.refuse_calc)
            error.err = (libvirt.VIR_ERR_OPERATION_UNSUPPORTED, 0, self.refuse_calc, 0, "", "", "", 0, 0)
            raise error
        return 0

    def info(self) -> list[int]:
        return [1, self.memory_kib, self.memory_kib, 1, 0]

    def memoryStats(self) -> dict[str, int]:  # noqa: N802
        return {"actual": self.memory_kib} | ({"rss": self.rss_kib} if self.rss_kib else {})

    def migrateGetMaxDowntime(self, flags: int) -> int:  # noqa: N802
        return 300

    def migrateGetMaxSpeed(self, flags: int) -> int:  # noqa: N802
        return 8796093022207

    def stats(self) -> dict[str, Any]:
        if self.measured_after > 0:
            self.measured_after -= 1
            return {"dirtyrate.calc_status": libvirt.VIR_DOMAIN_DIRTYRATE_MEASURING}
        return {
            "dirtyrate.calc_status": libvirt.VIR_DOMAIN_DIRTYRATE_MEASURED,
            "dirtyrate.megabytes_per_second": self.rate,
            "dirtyrate.calc_period": 1,
        }


@dataclass
class Connection:
    reads: int = 0

    def domainListGetStats(self, doms: list[Domain], stats: int) -> list[tuple[Domain, dict[str, Any]]]:  # noqa: N802
        assert stats == libvirt.VIR_DOMAIN_STATS_DIRTYRATE
        self.reads += 1
        return [(dom, dom.stats()) for dom in doms]


def migration_parts(conn: Connection, guests: list[Domain], sleep: Any = lambda _: None) -> tuple[dict, list]:
    """{name: migration part} of GUESTS (as collect_guests lists them) and the gaps, as
    libvirt_facts makes them."""
    entries = [{"name": dom.name(), "memory_kib": dom.memory_kib} for dom in guests]
    gaps = Gaps()
    measuring = start_dirty_rates(conn, guests)
    add_limits(entries, measuring, gaps)
    add_rates(entries, measuring, sleep)
    return {entry["name"]: entry.get("migration") for entry in entries}, gaps.entries


def test_every_guest_is_measured_in_one_period():
    conn, slept = Connection(), []
    parts, missing = migration_parts(conn, [Domain(f"g{number}", rate=number) for number in range(20)], slept.append)
    assert missing == []
    assert conn.reads == 1 and len(slept) == 1 and slept[0] <= 1
    assert parts["g7"] == {
        "max_downtime_ms": 300,
        "max_speed_mib_s": 8796093022207,
        "memory_in_use_bytes": 300_000 * 1024,
        "memory_in_use_source": "rss",
        "dirty_rate_mib_s": 7.0,
        "dirty_rate_error": None,
        "dirty_rate_period_s": 1.0,
        "dirty_rate_mode": "dirty-bitmap",
    }


def test_page_sampling_where_the_dirty_bitmap_is_refused():
    old = Domain("old", refuse_bitmap=True)
    parts, _ = migration_parts(Connection(), [old])
    assert old.calls == [
        f"start 1 {libvirt.VIR_DOMAIN_DIRTYRATE_MODE_DIRTY_BITMAP}",
        f"start 1 {libvirt.VIR_DOMAIN_DIRTYRATE_MODE_PAGE_SAMPLING}",
    ]
    assert parts["old"]["dirty_rate_mode"] == "page-sampling" and parts["old"]["dirty_rate_mib_s"] == 5.0


def test_a_guest_under_migration_is_not_measured():
    busy = Domain("busy", job={"type": libvirt.VIR_DOMAIN_JOB_UNBOUNDED, "operation": 5})
    parts, _ = migration_parts(Connection(), [busy, Domain("calm")])
    assert busy.calls == []
    assert parts["busy"]["dirty_rate_mib_s"] is None
    assert parts["busy"]["dirty_rate_error"] == "not measured: outgoing migration job running on the guest"
    assert parts["calm"]["dirty_rate_mib_s"] == 5.0


def test_a_host_that_cannot_measure_says_so():
    old = Domain(
        "old", refuse_calc="this function is not supported by the connection driver: virDomainStartDirtyRateCalc"
    )
    parts, _ = migration_parts(Connection(), [old])
    assert parts["old"]["dirty_rate_mib_s"] is None
    assert "not supported" in parts["old"]["dirty_rate_error"]


def test_a_slow_calculation_is_read_again():
    found = start_dirty_rates(Connection(), [Domain("late", measured_after=2)]).finish(sleep=lambda _: None)
    assert found == {
        "late": {
            "dirty_rate_mib_s": 5.0,
            "dirty_rate_error": None,
            "dirty_rate_period_s": 1.0,
            "dirty_rate_mode": "dirty-bitmap",
        }
    }


def test_a_calculation_past_its_read_back_time_is_given_up():
    measuring = start_dirty_rates(Connection(), [Domain("never", measured_after=10**6)])
    measuring.at -= 10  # the period and the read-back time are over
    found = measuring.finish(sleep=lambda _: None)
    assert found["never"]["dirty_rate_mib_s"] is None
    assert found["never"]["dirty_rate_error"] == "QEMU had not measured the dirty rate 3 s after starting"


def test_without_rss_the_current_memory_is_in_use():
    parts, _ = migration_parts(Connection(), [Domain("noballoon", rss_kib=None)])
    assert parts["noballoon"]["memory_in_use_bytes"] == 1_048_576 * 1024
    assert parts["noballoon"]["memory_in_use_source"] == "current-memory"


def test_rss_above_the_guest_memory_is_capped():
    parts, _ = migration_parts(Connection(), [Domain("small", rss_kib=200_000, memory_kib=131_072)])
    assert parts["small"]["memory_in_use_bytes"] == 131_072 * 1024


def test_the_resident_ram_mapping_comes_first():
    entry = {
        "name": "web",
        "memory_kib": 131_072,
        "migration": {"memory_in_use_bytes": 1, "memory_in_use_source": "rss"},
    }
    with_resident(entry, {"resident_bytes": 69_206_016})
    assert entry["migration"] == {"memory_in_use_bytes": 69_206_016, "memory_in_use_source": "qemu-ram-mapping"}
    with_resident(entry, {"error": "0 QEMU processes run guest web here"})
    assert entry["migration"]["memory_in_use_source"] == "qemu-ram-mapping"


def test_limits_libvirt_refuses_are_a_gap():
    class Refusing(Domain):
        def migrateGetMaxDowntime(self, flags: int) -> int:  # noqa: N802
            raise libvirt.libvirtError("Requested operation is not valid: domain is not running")

    parts, missing = migration_parts(Connection(), [Refusing("gone")])
    assert parts["gone"] is None
    assert missing == [
        {
            "fact": "guests.gone.migration",
            "reason": "libvirtError: Requested operation is not valid: domain is not running",
        }
    ]


@dataclass
class ClosingConnection(Connection):
    """A connection that says how many guests' domains the measurement still held when it was closed
    (libvirt closes a connection only once no domain holds it; the far side carrying it waits)."""

    held_at_close: list[int] = field(default_factory=list)
    measuring: Any = None

    def close(self) -> None:
        self.held_at_close.append(len(self.measuring.domains) + len(self.measuring.started))

    def getLibVersion(self) -> int:  # noqa: N802
        return 9_000_000

    getVersion = getLibVersion  # noqa: N815

    def getHostname(self) -> str:  # noqa: N802
        return "hosta.lab.test"

    def getCapabilities(self) -> str:  # noqa: N802
        return "<capabilities/>"

    def listAllDomains(self, flags: int = 0) -> list[Domain]:  # noqa: N802
        return []


def test_a_run_reads_the_dirty_rates_later_and_the_connection_closes_only_then_without_its_domains(monkeypatch):
    """Round one starts the calculations and returns the guests with their limits; the run reads the
    rates once its probes and look-ups are done (GuestAsk.later), then the connection is closed with
    no domain left holding it."""
    from migdoctor.facts import libvirt as libvirt_part
    from migdoctor.facts.guests import GuestAsk

    conn, guests = ClosingConnection(), [Domain("web", rate=30), Domain("db", rate=2)]
    conn.measuring = start_dirty_rates(conn, guests)
    monkeypatch.setattr(libvirt, "open", lambda uri: conn)
    monkeypatch.setattr(libvirt_part, "start_measuring", lambda _conn, _names: conn.measuring)
    monkeypatch.setattr(libvirt_part, "collect_virt", lambda _conn, _gaps: {})
    monkeypatch.setattr(
        libvirt_part,
        "collect_guests",
        lambda _conn, _names, _gaps: [{"name": d.label, "memory_kib": 1024} for d in guests],
    )
    later: list[Any] = []

    _facts, reason, parts = libvirt_part.libvirt_facts("qemu:///system", None, GuestAsk((), True, later))

    assert reason is None and conn.held_at_close == [] and len(later) == 1
    assert [entry["migration"].get("dirty_rate_mib_s") for entry in parts["guests"]] == [None, None]
    later[0]()
    assert [entry["migration"]["dirty_rate_mib_s"] for entry in parts["guests"]] == [30.0, 2.0]
    assert conn.held_at_close == [0]
