"""Each guest's predicted migration (judging/precopy.py over its measured figures), what would make
a guest that does not converge converge, and the evacuation's total against the maintenance
window."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from migdoctor.judging.domain import DomainXMLError, parse_domain
from migdoctor.judging.pair import Pair
from migdoctor.judging.path import predict_path
from migdoctor.judging.precopy import MIB, Prediction, predict

MAX_LIVE_DOWNTIME_MS = 10_000  # a longer pause is no live migration: no limit above it is advised
ADVISED_ROUNDS = 30  # a raised limit or a faster network should let it stop within this many rounds
MAX_CONNECTIONS = 8
MAX_NETWORK_MBPS = 400_000  # the fastest Ethernet there is: no network above it is advised


@dataclass(frozen=True)
class Bandwidth:
    """What a pair's migration stream carries (Mb/s), where that figure comes from, and the
    set-up before its first byte when a test migration measured it."""

    mbps: float | None
    source: str | None
    setup_s: float = 0.0


@dataclass(frozen=True)
class Terms:
    """What one guest's migration to one destination is predicted with: the pair's BANDWIDTH, the
    carrying link's effective speed, the destination's URI (for the commands), how many guests
    migrate at once, the maintenance window and when the plan's schedule ends this guest."""

    bandwidth: Bandwidth
    link_mbps: float | None = None
    dst_uri: str = "DESTINATION_URI"
    parallel: int = 1
    window_s: float | None = None
    ends_at_s: float | None = None


def migration_bandwidth(pair: Pair) -> Bandwidth:
    """The test migration's measured rate when one ran, else the probe's (its rate once the stream
    is steady; a record without it: the whole sample's), else the carrying link's effective speed (shaping or nominal speed: an upper bound, said as "link-speed")."""
    legs = [leg for leg in ((pair.trial or {}).get("legs") or []) if leg.get("ok") and leg.get("rate_mbps")]
    if legs:
        leg = legs[0]
        streaming = (leg.get("source_tx_bytes") or 0) * 8 / (leg["rate_mbps"] * 1e6)
        return Bandwidth(float(leg["rate_mbps"]), "test-migration", max(0.0, leg["wall_s"] - streaming))
    probe = pair.probe or {}
    probed = probe.get("bandwidth_mbps") or probe.get("rate_mbps")
    if probed and not probe.get("error"):
        return Bandwidth(float(probed), "probe")
    speed = predict_path(pair)["source_rate_mbps"]
    return Bandwidth(float(speed), "link-speed") if speed else Bandwidth(None, None)


def terms_of(pair: Pair, parallel: int = 1, window_s: float | None = None) -> Terms:
    """The Terms a pair's guests are predicted with."""
    return Terms(
        migration_bandwidth(pair),
        predict_path(pair)["source_rate_mbps"],
        pair.intent.dst_libvirt_uri or f"qemu+ssh://{pair.dst_label}/system",
        parallel,
        window_s,
    )


def stream_rate(bandwidth_mbps: float, migration: dict[str, Any]) -> float:
    """What the stream carries: the bandwidth, or the guest's speed cap (MiB/s) when lower."""
    cap_mbps = migration["max_speed_mib_s"] * MIB * 8 / 1e6
    return min(bandwidth_mbps, cap_mbps)


def run_model(
    guest: dict[str, Any], rate_mbps: float, max_downtime_ms: float | None = None, setup_s: float = 0.0
) -> Prediction:
    migration = guest["migration"]
    return predict(
        guest["memory_kib"] * 1024,
        migration["memory_in_use_bytes"],
        migration["dirty_rate_mib_s"],
        rate_mbps,
        migration["max_downtime_ms"] if max_downtime_ms is None else max_downtime_ms,
        setup_s,
    )


def unpredictable(guest: dict[str, Any], bandwidth_mbps: float | None) -> str | None:
    """Why GUEST's migration cannot be predicted, or None."""
    migration = guest.get("migration")
    if not migration:
        return "no migration facts for this guest (its dirty rate, downtime limit and memory in use)"
    if migration.get("dirty_rate_mib_s") is None:
        return f"dirty rate unknown: {migration.get('dirty_rate_error') or 'not measured'}"
    if not bandwidth_mbps:
        return "the migration stream's bandwidth is unknown (no test migration, probe or link speed)"
    return None


def prediction(guest: dict[str, Any], bandwidth: Bandwidth, share: int = 1) -> dict[str, Any]:
    """The report's `prediction` for GUEST migrating over BANDWIDTH, sharing it with SHARE - 1
    other migrations: the figures, or {"reason": ...}."""
    reason = unpredictable(guest, bandwidth.mbps)
    if reason or bandwidth.mbps is None:
        return {"reason": reason}
    migration = guest["migration"]
    rate = stream_rate(bandwidth.mbps / share, migration)
    found = run_model(guest, rate, setup_s=bandwidth.setup_s)
    return {
        "converges": found.converges,
        "total_s": round(found.total_s, 3) if found.converges else None,
        "data_bytes": found.data_bytes,
        "downtime_ms": round(found.downtime_ms, 1) if found.converges else None,
        "rounds": found.rounds,
        "dirty_rate_mib_s": migration["dirty_rate_mib_s"],
        "bandwidth_mbps": round(rate, 1),
        "bandwidth_source": bandwidth.source,
        "capped_by_max_speed": rate < bandwidth.mbps / share,
        "setup_s": round(bandwidth.setup_s, 3) if bandwidth.source == "test-migration" else None,
        **({"why_not": found.reason} if found.reason else {}),
    }


def settles(guest: dict[str, Any], rate_mbps: float, max_downtime_ms: float | None = None) -> bool:
    """Whether GUEST converges within ADVISED_ROUNDS rounds at RATE_MBPS (and that downtime limit)."""
    found = run_model(guest, rate_mbps, max_downtime_ms)
    return found.converges and found.rounds <= ADVISED_ROUNDS


def least(low: float, high: float, works: Any, steps: int = 40) -> float | None:
    """The least value in [LOW, HIGH] for which WORKS holds (monotone), or None when HIGH fails."""
    if not works(high):
        return None
    for _ in range(steps):
        middle = (low + high) / 2
        low, high = (low, middle) if works(middle) else (middle, high)
    return high


def postcopy_blocker(xml: str | None) -> str | None:
    """What backs the guest's memory when that rules out post-copy (hugepages, a file), else None;
    an XML that cannot be read rules nothing out here (the guest checks name it)."""
    try:
        domain = parse_domain(xml or "")
    except DomainXMLError:
        return None
    if domain.hugepages is not None:
        return "hugepages"
    return "file-backed memory" if domain.memory_source == "file" else None


def recommendations(
    guest: dict[str, Any], bandwidth_mbps: float, link_mbps: float | None, dst_uri: str, parallel: int = 1
) -> list[str]:
    """What would let GUEST converge (or converge sooner), each with its exact command, for a
    migration to DST_URI over BANDWIDTH_MBPS shared by PARALLEL migrations, LINK_MBPS being its
    link's effective speed."""
    name, migration = guest["name"], guest["migration"]
    rate = stream_rate(bandwidth_mbps / parallel, migration)
    done: list[str] = []
    if parallel > 1 and run_model(guest, stream_rate(bandwidth_mbps, migration)).converges:
        done.append(
            f"migrate {name} alone, first or last: with the whole {bandwidth_mbps:g} Mb/s it converges, "
            f"with a 1/{parallel} share it does not"
        )

    if rate < bandwidth_mbps / parallel:
        uncapped = math.ceil(bandwidth_mbps / parallel * 1e6 / 8 / MIB)
        done.append(
            f"its speed cap of {migration['max_speed_mib_s']} MiB/s holds it below the network's "
            f"{bandwidth_mbps / parallel:g} Mb/s: virsh migrate-setspeed {name} {uncapped}"
        )
    limit = least(migration["max_downtime_ms"], MAX_LIVE_DOWNTIME_MS, lambda ms: settles(guest, rate, ms))
    if limit is not None:
        done.append(
            f"raise the downtime limit to {math.ceil(limit)} ms: virsh migrate-setmaxdowntime {name} {math.ceil(limit)}"
        )
    command = f"virsh migrate --live --p2p {name} {dst_uri}"
    done.append(f"throttle the guest's vCPUs until it converges: {command} --auto-converge")
    if postcopy_blocker(guest.get("xml")) is None:
        done.append(
            "switch to post-copy when pre-copy does not converge (the guest runs on the destination while its "
            f"memory follows; a network failure then loses the guest): {command} --postcopy --postcopy-after-precopy"
        )
    if link_mbps and bandwidth_mbps < link_mbps / 2:
        connections = min(MAX_CONNECTIONS, max(2, math.ceil(link_mbps / bandwidth_mbps)))
        done.append(
            f"one stream carries {bandwidth_mbps:g} Mb/s of the link's {link_mbps:g}: "
            f"{command} --parallel --parallel-connections {connections}"
        )
    needed = least(rate, MAX_NETWORK_MBPS, lambda mbps: settles(guest, mbps))
    if needed is not None and needed > rate:
        done.append(f"a faster migration network: at least {math.ceil(needed * parallel)} Mb/s")
    return done


def schedule(durations: list[tuple[str, float]], parallel: int) -> dict[str, float]:
    """When each migration ends, run in the given order PARALLEL at a time (each starting as soon as
    one of the PARALLEL slots frees)."""
    slots = [0.0] * max(1, parallel)
    ends = {}
    for name, seconds in durations:
        start = min(slots)
        slots[slots.index(start)] = start + seconds
        ends[name] = start + seconds
    return ends


def evacuation(moves: list[tuple[str, dict[str, Any]]], parallel: int, window_s: float | None) -> dict[str, Any]:
    """The report's `evacuation`: MOVES are (guest name, its prediction at a 1/PARALLEL share) in
    plan order. A guest that does not converge misses any window; one that cannot be predicted
    leaves the total unknown and the window undecided unless another guest already misses it."""
    unknown = [name for name, found in moves if "converges" not in found]
    stuck = [name for name, found in moves if found.get("converges") is False]
    ends = schedule([(name, found["total_s"]) for name, found in moves if found.get("converges")], parallel)
    late = [name for name, end in ends.items() if window_s is not None and end > window_s]
    missing = stuck + late
    total = None if unknown or stuck else max(ends.values(), default=0.0)
    return {
        "parallel": parallel,
        "window_s": window_s,
        "total_s": None if total is None else round(total, 3),
        "fits": None if window_s is None or (unknown and not missing) else not missing,
        "missing_window_by": missing,
        "not_predicted": unknown,
    }
