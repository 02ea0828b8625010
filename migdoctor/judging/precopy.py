"""QEMU's pre-copy live migration as a model: will a guest converge, in how many rounds, how
long, how much data and how long it stops. Pure arithmetic over measured figures.

What QEMU does (migration/ram.c, migration/migration.c, QEMU 7.2 as Debian 12 ships it, same
logic through 9.x):
- Round one sends every page of guest RAM. A page that reads as zero is sent as a marker, the
  8-byte page header and one fill byte (ram.c `save_zero_page`, `save_page_header`); any other
  page as the header and its 4096 bytes. Pages the guest never touched read as zero.
- While a round runs, the guest dirties pages; KVM's dirty log marks them in 4 KiB pages
  (TARGET_PAGE_SIZE), however often each is written. The next round sends those, and so on.
- Each iteration the migration thread compares what is left to send with
  `threshold_size = bandwidth * downtime_limit` (migration.c `migration_update_counters`,
  bandwidth being what the stream achieved, in bytes per ms) and stops the guest to send the rest
  once `pending_size < threshold_size` (migration.c `migration_iteration_run`). The downtime is
  then pending / bandwidth, QEMU's own `expected_downtime`. Otherwise it goes on: QEMU has no
  round limit, a guest that never fits runs until it is cancelled.
- The dirty rate comes from QEMU's `calc-dirty-rate` (migration/dirtyrate.c, libvirt's
  virDomainStartDirtyRateCalc), in whole MiB/s (it shifts by 20, rounding down). In dirty-bitmap
  mode it counts the pages KVM's dirty log marks in the period, as a migration's rounds see them;
  in page-sampling mode it hashes 512 sampled 4 KiB pages per GiB at the start and the end of the
  period (a write that leaves a page's bytes unchanged is not seen). Either way a page written
  several times in the period counts once, so a small hot working set reads as that set per period.

The model: rounds of duration t = sent / rate; the guest dirties dirty_rate * t in each, at most
its memory; pending below the threshold stops it. It does not converge when the dirty rate is at
or above the rate the stream carries (pending never shrinks) or pending is still above the
threshold after MAX_ROUNDS rounds. The seconds libvirt takes to set a migration up are added
when a test migration measured them. Not modelled: device state (kilobytes), compression, XBZRLE, multifd and auto-converge's throttling (which
exist to change these figures; the recommendations name them)."""

from __future__ import annotations

import math
from dataclasses import dataclass

PAGE = 4096  # TARGET_PAGE_SIZE on x86
PAGE_HEADER = 8  # ram.c save_page_header: be64 of offset | flags
ZERO_MARKER = PAGE_HEADER + 1  # ram.c save_zero_page: header and the fill byte
MIB = 1 << 20
MAX_ROUNDS = 1000  # beyond this a migration is a job an admin cancels, not one that converges


@dataclass(frozen=True)
class Prediction:
    """One migration as the model predicts it; REASON says why it will not converge (then the
    figures are those up to MAX_ROUNDS, or the first round's when the dirty rate outruns the
    stream)."""

    converges: bool
    rounds: int
    total_s: float
    data_bytes: int
    downtime_ms: float
    reason: str | None = None


def wire_bytes(pages_bytes: float) -> float:
    """What sending PAGES_BYTES of non-zero pages puts on the stream, headers included."""
    return pages_bytes * (PAGE + PAGE_HEADER) / PAGE


def predict(
    memory_bytes: int,
    in_use_bytes: int,
    dirty_rate_mib_s: float,
    rate_mbps: float,
    max_downtime_ms: float,
    setup_s: float = 0.0,
) -> Prediction:
    """Pre-copy of a guest of MEMORY_BYTES, IN_USE_BYTES of them not zero, dirtying
    DIRTY_RATE_MIB_S (MiB/s), over a stream carrying RATE_MBPS (10^6 bit/s, the measured bandwidth
    or the speed cap, whichever is lower), with QEMU's downtime limit MAX_DOWNTIME_MS. Figures
    outside their domain (negative, nan) are clamped: the model answers, never raises. SETUP_S is
    what the migration takes before its first byte (libvirt's handshake, the destination's QEMU
    starting), added to the total when known."""
    memory = max(0.0, float(memory_bytes)) if math.isfinite(memory_bytes) else 0.0
    in_use = min(memory, max(0.0, float(in_use_bytes)))
    dirty = max(0.0, dirty_rate_mib_s) * MIB if math.isfinite(dirty_rate_mib_s) else math.inf
    rate = max(0.0, rate_mbps) * 1e6 / 8 if math.isfinite(rate_mbps) else 0.0
    limit_s = max(0.0, max_downtime_ms) / 1000 if math.isfinite(max_downtime_ms) else 0.0
    if rate <= 0:
        return Prediction(False, 0, math.inf, 0, math.inf, "no bandwidth to migrate over")
    threshold = rate * limit_s
    first = wire_bytes(in_use) + (memory - in_use) / PAGE * ZERO_MARKER
    setup = max(0.0, setup_s) if math.isfinite(setup_s) else 0.0
    sent, elapsed = first, setup + first / rate  # dirty logging starts with QEMU's part, after the set-up
    pending = wire_bytes(min(memory, dirty * first / rate))
    for rounds in range(1, MAX_ROUNDS + 1):
        if pending < threshold:
            return Prediction(True, rounds, elapsed + pending / rate, round(sent + pending), pending / rate * 1000)
        if dirty >= rate:
            return Prediction(
                False,
                rounds,
                math.inf,
                round(sent),
                pending / rate * 1000,
                f"the guest dirties {dirty / MIB:.1f} MiB/s, at or above the {rate / MIB:.1f} MiB/s the stream carries",
            )
        sent += pending
        round_s = pending / rate
        elapsed += round_s
        pending = wire_bytes(min(memory, dirty * round_s))
    return Prediction(
        False,
        MAX_ROUNDS,
        math.inf,
        round(sent),
        pending / rate * 1000,
        f"after {MAX_ROUNDS} rounds {pending / MIB:.1f} MiB are still dirty, more than the "
        f"{threshold / MIB:.2f} MiB the {limit_s * 1000:g} ms downtime limit lets through",
    )
