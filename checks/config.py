"""The destination's migration port range, as qemu.conf sets it."""

from __future__ import annotations

from typing import Any

from migdoctor.checkapi import Evidence, Outcome, Registry, failed, passed
from migdoctor.judging.facts import (
    DEFAULT_PORT_MAX,
    DEFAULT_PORT_MIN,
    SETTINGS,
    config_values,
    port_range,
    read_only_memo,
)
from migdoctor.judging.fixes import qemu_conf_line
from migdoctor.judging.pair import Pair

registry = Registry(order=50)
PRIVILEGED_BELOW = 1024
CONFIG_FILES = {"qemu_conf": "qemu.conf", "libvirtd_conf": "libvirtd.conf", "xend_config": "xend-config.sxp"}


def any_uncovered(first: int, last: int, covered: list[list[int]]) -> bool:
    """Whether a port of first..last lies outside every [a, b] of COVERED: interval arithmetic, so
    no loop runs over a range read from a host (migration_port_max = 99999999999)."""
    for low, high in sorted(covered):
        if first > last:
            return False
        if low > first:
            return True
        first = max(first, high + 1)
    return first <= last


@read_only_memo
def wrong_settings(facts: dict[str, Any]) -> tuple[tuple[str, str, Any, str], ...]:
    """(file, key, value, the type expected) of each setting whose type its daemon refuses; a
    tuple, as the answer is shared by every pair of the host."""
    wrong = []
    for (name, key), (accepts, expected) in SETTINGS.items():
        values = config_values(facts, name)
        if key in values and not accepts(values[key]):
            path = ((facts.get("config") or {}).get(name) or {}).get("path") or CONFIG_FILES[name]
            wrong.append((path, key, values[key], expected))
    return tuple(wrong)


@registry.check(
    "config.value-types",
    "Every setting migdoctor reads has the type its daemon accepts",
    "high",
    needs=("src.config", "dst.config"),
    description=(
        "a setting migdoctor reads (qemu.conf, libvirtd.conf, xend-config.sxp) has a type its daemon refuses: "
        "a list where one name goes, text where a number goes; host, file and key named"
    ),
    rationale=(
        "A daemon that cannot parse its file refuses to start or ignores the setting, so the admin's "
        "`migration_host` or port range silently does not apply, and every other check would judge a value "
        "the daemon never uses"
    ),
    fix="give the setting the type its daemon reads (a quoted name, a number), or remove it",
)
def value_types(pair: Pair) -> Outcome:
    """A list where libvirt wants one name, text where it wants a number: the daemon refuses to
    load the file (or reads something else than the admin meant), and migdoctor reads it as unset."""
    wrong = [
        (label, *setting)
        for label, facts in ((pair.src_label, pair.src), (pair.dst_label, pair.dst))
        for setting in wrong_settings(facts)
    ]
    if not wrong:
        return passed(f"every setting read on {pair.src_label} and {pair.dst_label} has the type its daemon accepts")
    return failed(
        "; ".join(
            f"{label}:{path}: {key} = {value!r} is not {expected}" for label, path, key, value, expected in wrong
        ),
        *(Evidence(label, f"{path}: {key}", value, expected) for label, path, key, value, expected in wrong),
        remediation="; ".join(
            f"{label}:{path}: set {key} to {expected}, or remove it" for label, path, key, _, expected in wrong
        ),
    )


@registry.check(
    "config.migration-port-range",
    "The migration port range is valid and clear of ephemeral ports",
    "high",
    needs=("dst.config.qemu_conf",),
    description=(
        "`migration_port_min` > `migration_port_max`, a port outside 1-65535, privileged ports without root, "
        "or a range overlapping unreserved ephemeral ports"
    ),
    rationale=(
        "Each migration (and each copied disk) binds a port of the range on the destination: other services "
        "or ephemeral ports in the range give intermittent bind failures (GlusterFS bricks from 49152, "
        "gluster/glusterfs 1101)"
    ),
    fix=(
        "set `migration_port_min`/`migration_port_max` in the destination's qemu.conf to a valid range "
        "clear of `net.ipv4.ip_local_port_range` and other services"
    ),
    scope="destination",
)
def migration_port_range(pair: Pair) -> Outcome:
    first, last = port_range(pair.dst)
    values = config_values(pair.dst, "qemu_conf")
    shown = f"{first}-{last}"
    evidence = [Evidence(pair.dst_label, "qemu.conf migration_port_min/max", shown, "1 <= min <= max <= 65535")]
    problems: list[tuple[str, str]] = []
    if first > last:
        problems.append(
            (
                f"migration_port_min {first} is above migration_port_max {last}",
                f"{qemu_conf_line(pair, 'migration_port_min', last)}, migration_port_max = {first}",
            )
        )
    if not (1 <= first <= 65535 and 1 <= last <= 65535):
        key, default = (
            ("migration_port_min", DEFAULT_PORT_MIN)
            if not 1 <= first <= 65535
            else ("migration_port_max", DEFAULT_PORT_MAX)
        )
        problems.append((f"range {shown} leaves 1-65535", qemu_conf_line(pair, key, default)))
    # Unset, QEMU runs as the distribution's build-time user (libvirt-qemu, qemu), never root.
    user = values.get("user", "(unset: the distribution's QEMU user)")
    if first < PRIVILEGED_BELOW and user not in ("root", "+0"):
        problems.append(
            (
                f"ports below {PRIVILEGED_BELOW} need root but QEMU runs as {user!r}",
                qemu_conf_line(pair, "migration_port_min", 49152),
            )
        )
    count = last - first + 1
    sysctl = pair.dst.get("sysctl") or {}
    low, high = sysctl.get("ip_local_port_range") or (1, 0)
    if any_uncovered(max(first, low), min(last, high), sysctl.get("ip_local_reserved_ports") or []):
        evidence.append(
            Evidence(
                pair.dst_label,
                "net.ipv4.ip_local_port_range less ip_local_reserved_ports",
                f"{low}-{high}",
                f"clear of {shown}",
            )
        )
        problems.append(
            (
                f"range {shown} overlaps the ephemeral ports {low}-{high}: any outgoing connection may hold a migration port",
                f"{pair.dst_label}:/etc/sysctl.d/migration.conf: net.ipv4.ip_local_reserved_ports = {first}-{last}",
            )
        )
    if not problems:
        return passed(f"{pair.dst_label} takes incoming migrations on {shown} ({count} ports)", *evidence)
    return failed("; ".join(text for text, _ in problems), *evidence, remediation="; ".join(fix for _, fix in problems))
