"""Predicted against measured: guests dirtying their memory at set rates (the lab's dirtying
payload) migrated from hosta to hostb over the fast link (1 Gb/s) and over the LAN (100 Mb/s), one
at a time. Each link's guests are predicted first, as `check --guests` with a test migration over
that link predicts them (the guest's facts as migdoctor collects them: memory in use, dirty rate,
downtime limit; the canary's stream rate and set-up time), then each is migrated with `migrate-test
--domain NAME --one-way` (a guest predicted not to converge under a --timeout of twice its first
round and 5 s). Prints, per guest, the set and the measured dirty rate, the predicted and the
measured time and data, and the error of each. Not a test.

Run as root, under the lab lock: flock /tmp/migdoctor-lab.lock .venv/bin/python bench/convergence.py
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from migdoctor.lab import layout
from migdoctor.lab.inventory import FILE as LAB_INVENTORY

MIGDOCTOR = str(Path(sys.executable).parent / "migdoctor")
# The canary whose set-up time the predictions add: the destination's QEMU reads its random payload
# when it starts, so a larger canary measures a longer set-up than a guest's (256 MiB: 1.2-1.5 s,
# 128 MiB: 0.8-1.0 s, the dirtying guests' own ~0.8 s).
CANARY_MIB = 128
# Per link: the migration URI that takes it (none: the advertised fast name), the guests' RAM and
# the dirty rates (MiB/s) to try, the last of each above what the link carries.
LINKS: dict[str, dict[str, Any]] = {
    "fast": {"uri": None, "memory_mib": 256, "rates": (2, 30, 60, 200)},
    "lan": {"uri": f"tcp://{layout.host('hostb').lan.ip}", "memory_mib": 128, "rates": (0.5, 2, 5, 30)},
}


def migdoctor(*argv: str) -> dict[str, Any]:
    """The JSON report of `migdoctor ARGV`; exit 0 and 1 are judgements, anything else stops the bench."""
    with tempfile.TemporaryDirectory() as tmp:
        output = Path(tmp) / "report.json"
        done = subprocess.run([MIGDOCTOR, *argv, "--output", str(output)], capture_output=True, text=True)
        if done.returncode not in (0, 1) or not output.exists():
            raise SystemExit(f"migdoctor {' '.join(argv)} exited {done.returncode}: {done.stderr.strip()[-300:]}")
        return json.loads(output.read_text())


def guest_name(link: str, rate: float) -> str:
    return f"{link}-{rate:g}".replace(".", "_")


def predict(link: str, uri: str | None, names: list[str], canary_mib: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """(each guest's prediction and migration facts, the canary leg), as `check --guests` with a
    test migration over LINK reports them."""
    over = ["--migrate-uri", uri] if uri else []
    asked = [arg for name in names for arg in ("--guest", name)]
    report = migdoctor(
        "check", "hosta", "hostb", *asked, "--test-migration", "--canary-memory", str(canary_mib), "--one-way",
        "--include-facts", "--only", "guest,migration", *over,
    )  # fmt: skip
    (leg,) = report["pairs"][0]["migration_trial"]["legs"]
    if not leg["ok"]:
        raise SystemExit(f"the canary did not cross the {link} link: {leg['error']}")
    facts = {guest["name"]: guest["migration"] for guest in report["facts"]["hosta"]["guests"]}
    predictions = {guest["name"]: guest["prediction"] for guest in report["guests"]}
    return {name: (predictions[name], facts[name]) for name in names}, leg


def migrate(name: str, uri: str | None, timeout_s: float) -> dict[str, Any]:
    over = ["--migrate-uri", uri] if uri else []
    report = migdoctor(
        "migrate-test", "hosta", "hostb", "--domain", name, "--yes", "--one-way", "--timeout", f"{timeout_s:.0f}", *over
    )
    trial = report["pairs"][0]["migration_trial"]
    (leg,) = trial["legs"]
    sent = (trial["completed_stats"] or leg["last_sample"] or {}).get("data_processed")
    return {"ok": leg["ok"], "error": leg["error"], "wall_s": leg["wall_s"], "data": sent}


def error(predicted: float | None, measured: float | None) -> str:
    if not predicted or not measured:
        return "-"
    return f"{(predicted - measured) / measured * 100:+.1f} %"


def remove(names: list[str]) -> None:
    from migdoctor import lab
    from migdoctor.actions import canary
    from migdoctor.lab import daemons

    for host in ("hosta", "hostb"):
        conn = daemons.open_libvirt(lab.local_libvirt_uri(host))
        for name in names:
            canary.remove(conn, name)
        conn.close()


def bench_link(link: str, settings: dict[str, Any]) -> None:
    from migdoctor.lab import guests
    from migdoctor.lab.scenario import GuestSpec

    specs = [
        GuestSpec(guest_name(link, r), memory_mib=settings["memory_mib"], dirty_mib_s=r) for r in settings["rates"]
    ]
    names = [spec.name for spec in specs]
    guests.run(specs)
    try:
        predictions, canary_leg = predict(link, settings["uri"], names, CANARY_MIB)
        setup = predictions[names[0]][0].get("setup_s") or 0
        print(f"\n{link}: canary {canary_leg['rate_mbps']} Mb/s on {canary_leg['source_link']}, set-up {setup:.2f} s")
        print(
            f"{'guest':>10} {'set':>6} {'facts':>6}  {'pred s':>7} {'meas s':>7} {'err':>8}  "
            f"{'pred MB':>8} {'meas MB':>8} {'err':>8}  outcome"
        )
        for spec in specs:
            found, facts = predictions[spec.name]
            first_round_s = settings["memory_mib"] * 1024 * 1024 * 8 / (canary_leg["rate_mbps"] * 1e6)
            timeout = (found["total_s"] or 0) * 3 + 10 if found.get("converges") else first_round_s * 2 + 5
            got = migrate(spec.name, settings["uri"], timeout)
            predicted_s = found.get("total_s")
            predicted_mb = found.get("data_bytes", 0) / 1e6 if found.get("converges") else None
            measured_mb = got["data"] / 1e6 if got["data"] else None
            if found.get("converges") is None:
                outcome = f"not predicted: {found.get('reason')}"
            elif found["converges"] == got["ok"]:
                outcome = "converged as predicted" if got["ok"] else f"did not converge, as predicted ({got['error']})"
            else:
                outcome = f"PREDICTED {'convergence' if found['converges'] else 'none'}, got {got['error'] or 'ok'}"
            print(
                f"{spec.name:>10} {spec.dirty_mib_s:>6g} {facts['dirty_rate_mib_s'] or 0:>6g}  "
                f"{predicted_s or float('nan'):>7.2f} {got['wall_s']:>7.2f} {error(predicted_s, got['wall_s']):>8}  "
                f"{predicted_mb or float('nan'):>8.1f} {measured_mb or float('nan'):>8.1f} "
                f"{error(predicted_mb, measured_mb if got['ok'] else None):>8}  {outcome}"
            )
    finally:
        remove(names)


def main() -> None:
    os.environ["MIGDOCTOR_INVENTORY"] = str(LAB_INVENTORY)  # what `lab up` says to export
    from migdoctor import lab

    lab.down()
    lab.up("dirty-guests")
    try:
        remove(["calm", "busy", "hot"])  # the scenario's own guests: the bench runs its own, one link at a time
        print("set: the payload's dirty rate; facts: the rate migdoctor measured (libvirt's calculation), MiB/s")
        for link, settings in LINKS.items():
            bench_link(link, settings)
        print("\nload average (1, 5, 15 min): {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    finally:
        lab.down()


if __name__ == "__main__":
    main()
