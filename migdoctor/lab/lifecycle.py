"""Bringing the lab up and down, reporting on it, and restarting a host's libvirtd.

`up` cleans up after itself when any step fails and `down` works from any partial state, so
a lab is either fully there or not there at all.
"""

import contextlib
import grp
import os
import pwd
import shutil
import signal
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from migdoctor.lab import (
    daemons,
    guests,
    hostfs,
    inventory,
    layout,
    nameserver,
    network,
    pki,
    procs,
    ssh,
    state,
    users,
)
from migdoctor.lab import scenario as scenarios
from migdoctor.lab.errors import LabError

TOOLS = (
    "ip",
    "tc",
    "nft",
    "nsenter",
    "unshare",
    "tini",
    "dnsmasq",
    "ssh",
    "ssh-keygen",
    "/usr/sbin/sshd",
    "/usr/sbin/libvirtd",
    "qemu-system-x86_64",
    "sudo",
    "useradd",
    "userdel",
)
LIBVIRTD_TIMEOUT = 60.0
READY_TIMEOUT = 10.0
FIREWALLD_TIMEOUT = 30.0
T = TypeVar("T")


def up(scenario: str = "seed", lan_rate: str = "100mbit", fast_rate: str = "1gbit", hosts: int | None = None) -> None:
    """Bring the lab up with `hosts` hosts (default: the scenario's count); a no-op when it is
    already up exactly so."""
    _preflight()
    scn = scenarios.load(scenario, hosts)
    _need_programs(scn)
    network.rate_bits(lan_rate)
    network.rate_bits(fast_rate)
    current = state.load()
    if is_up():
        wanted = (scenario, lan_rate, fast_rate, list(scn.hosts))
        running = [h.name for h in _lab_hosts(current)]
        have = (current.get("scenario"), current.get("lan_rate"), current.get("fast_rate"), running)
        if wanted == have:
            return
        raise LabError(
            f"the lab is up with scenario {have[0]} (lan {have[1]}, fast {have[2]}, {len(running)} hosts);"
            " run `migdoctor lab down` first"
        )
    if exists():
        down()
    started = time.monotonic()
    try:
        _build(scn, lan_rate, fast_rate, started)
    except BaseException as e:
        with contextlib.suppress(Exception):
            down()
        if isinstance(e, LabError | KeyboardInterrupt):
            raise
        raise LabError(f"lab up failed: {e}") from e


def down() -> None:
    """Tear everything down, processes before the namespaces and links they use; quiet when nothing is there."""
    _need_root()
    data = state.load()
    errors: list[LabError] = []

    def kill(pids: list[int], netns: str) -> None:
        try:
            procs.kill(pids, netns)
        except LabError as e:  # keep tearing down; report the first failure at the end
            errors.append(e)

    for h in layout.ALL_HOSTS.values():
        kill(_guest_pids(h), h.netns)
    for h in layout.ALL_HOSTS.values():
        recorded = state.pids(data, h.name)
        kill([daemons.libvirtd_pid(h) or 0], h.netns)
        kill([recorded.get("tini", 0), recorded.get("sshd", 0)], h.netns)
        kill([recorded.get("firewalld", 0), recorded.get("dbus", 0)], h.netns)
    kill([state.pids(data, "dns").get("dnsmasq", 0)], layout.DNS_NS)
    for ns in layout.namespaces():
        kill(procs.netns_pids(ns), ns)
    network.destroy()
    hostfs.remove_netns_etc()
    hostfs.remove_mountpoints(data.get("mountpoints", []))
    hostfs.remove_files(data.get("lock_files", []))
    try:
        users.remove()
    except LabError as e:
        errors.append(e)
    shutil.rmtree(layout.STATE_DIR, ignore_errors=True)
    if errors:
        raise errors[0]


def is_up() -> bool:
    """True when every lab process is running and `up` finished."""
    return status()["up"]


def exists() -> bool:
    """True when any trace of a lab is present, complete or not."""
    return (
        layout.STATE_DIR.exists()
        or network.exists()
        or any(h.netns_etc.exists() for h in layout.ALL_HOSTS.values())
        or users.SUDOERS.exists()
        or any(users.exists(name) for name in users.USERS)
    )


def status() -> dict[str, Any]:
    """JSON-ready picture of the lab, from the record and from what is really running."""
    data = state.load()
    hosts = {h.name: _host_status(h, data) for h in _lab_hosts(data)}
    dns_pid = state.pids(data, "dns").get("dnsmasq")
    dns_running = procs.in_netns(dns_pid, layout.DNS_NS)
    running = all(
        v["anchor_running"] and v["libvirtd_running"] and v["sshd_running"] and v["firewalld_running"] is not False
        for v in hosts.values()
    )
    return {
        "up": data.get("phase") == "up" and running and dns_running,
        "phase": data.get("phase"),
        "scenario": data.get("scenario"),
        "rates": {"lan": data.get("lan_rate"), "fast": data.get("fast_rate")},
        "up_seconds": data.get("up_seconds"),
        "state_dir": str(layout.STATE_DIR),
        "inventory": str(inventory.FILE),
        "ssh_config": str(ssh.SSH_CONFIG),
        "dns": {"running": dns_running, "pid": dns_pid, "address": layout.DNS_IP, "zone": layout.ZONE},
        "hosts": hosts,
    }


def exec_prefix(host: str) -> list[str]:
    """argv prefix running a command inside a lab host (its network, mounts and hostname)."""
    return daemons.enter(_anchor(layout.host(host)))


def reload(host: str) -> None:
    """Restart one host's libvirtd so it rereads its configs; running guests survive."""
    h = layout.host(host)
    anchor = _anchor(h)
    data = state.load()
    tini = state.pids(data, h.name).get("tini", 0)
    try:
        procs.kill([tini], h.netns, signal.SIGTERM, timeout=10)
    except LabError:
        procs.kill([tini, daemons.libvirtd_pid(h) or 0], h.netns)
    tini = daemons.start_libvirtd(h, anchor)
    state.set_pid(data, h.name, "tini", tini)
    state.save(data)
    daemons.wait_libvirtd(h, tini, LIBVIRTD_TIMEOUT)


def local_libvirt_uri(host: str) -> str:
    """URI for a client in the root namespace: the host's libvirtd socket, no ssh."""
    return daemons.local_uri(layout.host(host))


def _build(scn: scenarios.Scenario, lan_rate: str, fast_rate: str, started: float) -> None:
    """Record first (so `down` can undo any step), then wires, files, daemons, readiness."""
    layout.STATE_DIR.mkdir(mode=0o755)
    data: dict[str, Any] = {
        "scenario": scn.name,
        "hosts": list(scn.hosts),
        "lan_rate": lan_rate,
        "fast_rate": fast_rate,
        "phase": "starting",
        "mountpoints": hostfs.mountpoints_needed(scn),
        "lock_files": hostfs.lock_files_left(scn),
    }
    state.save(data)
    hostfs.create_mountpoints(data["mountpoints"])
    network.create(scn, lan_rate, fast_rate)
    ssh.write_all(scn.lab_hosts)
    users.create()
    nameserver.write(scn.dns_records)
    inventory.write(scn)
    if any(cfg.tls for cfg in scn.hosts.values()):
        pki.make_ca()
    (layout.STATE_DIR / "scenario").write_text(scn.name + "\n")
    state.set_pid(data, "dns", "dnsmasq", nameserver.start())
    anchors = _each_host(scn, _prepare_host)
    for h, anchor in zip(scn.lab_hosts, anchors, strict=True):
        state.set_pid(data, h.name, "anchor", anchor)
    state.save(data)
    _start_daemons(data, scn)
    network.wait_carrier(scn, READY_TIMEOUT)
    nameserver.wait(state.pids(data, "dns")["dnsmasq"], [h.netns for h in scn.lab_hosts], READY_TIMEOUT)
    _each_host(scn, lambda h, cfg: _finish_host(h, cfg, state.pids(data, h.name)))
    guests.start(scn)
    data.update(phase="up", up_seconds=round(time.monotonic() - started, 2))
    state.save(data)


def _each_host(scn: scenarios.Scenario, step: Callable[[layout.Host, scenarios.HostConfig], T]) -> list[T]:
    """Run `step` for every host at once: the hosts share nothing but the machine, and most of a
    step is waiting on a child process. The first failure is raised once all have finished
    (a half-built host is `down`'s to remove, found by its namespace)."""
    with ThreadPoolExecutor(max_workers=len(scn.hosts)) as pool:
        return list(pool.map(lambda h: step(h, scn.hosts[h.name]), scn.lab_hosts))


def _prepare_host(h: layout.Host, cfg: scenarios.HostConfig) -> int:
    """The host's files, firewall and private mounts; returns its anchor's PID."""
    hostfs.write(h, cfg)
    network.load_firewall(h, cfg.nftables)
    return daemons.start_anchor(h, cfg)


def _finish_host(h: layout.Host, cfg: scenarios.HostConfig, pids: dict[str, int]) -> None:
    """Wait until the host's daemons answer, set its firewall up with the scenario's tools, then
    leave the edits a scenario makes after start."""
    daemons.wait_sshd(h, pids["sshd"], READY_TIMEOUT)
    daemons.wait_libvirtd(h, pids["tini"], LIBVIRTD_TIMEOUT)
    if cfg.firewalld:
        daemons.wait_firewalld(h, pids["anchor"], pids["firewalld"], FIREWALLD_TIMEOUT)
    daemons.run_setup(h, pids["anchor"], cfg.firewall_setup)
    hostfs.write_edits(h, cfg)
    network.load_firewall(h, cfg.nftables_edited)


def _start_daemons(data: dict[str, Any], scn: scenarios.Scenario) -> None:
    """sshd and libvirtd in every host; they start in parallel unless qemu must be probed. A host
    without KVM probes afresh: the shared capabilities would claim KVM, and libvirt trusts them."""
    for h in scn.lab_hosts:
        anchor = state.pids(data, h.name)["anchor"]
        state.set_pid(data, h.name, "sshd", daemons.start_sshd(h, anchor))
        if scn.hosts[h.name].firewalld:
            dbus, firewalld = daemons.start_firewalld(h, anchor)
            state.set_pid(data, h.name, "dbus", dbus)
            state.set_pid(data, h.name, "firewalld", firewalld)
            state.save(data)
        kvm = scn.hosts[h.name].kvm
        cached = hostfs.seed_capabilities(h) if kvm else False
        state.set_pid(data, h.name, "tini", daemons.start_libvirtd(h, anchor))
        state.save(data)
        if not cached:  # first start on this machine: one daemon probes qemu, the other reuses it
            daemons.wait_libvirtd(h, state.pids(data, h.name)["tini"], LIBVIRTD_TIMEOUT)
            if kvm:
                hostfs.save_capabilities(h)


def _host_status(h: layout.Host, data: dict[str, Any]) -> dict[str, Any]:
    recorded = state.pids(data, h.name)
    pids = {
        "anchor": recorded.get("anchor"),
        "tini": recorded.get("tini"),
        "libvirtd": daemons.libvirtd_pid(h),
        "sshd": recorded.get("sshd"),
        "dbus": recorded.get("dbus"),
        "firewalld": recorded.get("firewalld"),
    }
    return {
        "fqdn": h.fqdn,
        "netns": h.netns,
        "pids": pids,
        "addresses": {
            link.role: {"interface": link.ifname, "address": link.cidr, "name": link.dns_name} for link in h.links
        },
        "anchor_running": procs.in_netns(pids["anchor"], h.netns),
        "libvirtd_running": procs.in_netns(pids["libvirtd"], h.netns),
        "sshd_running": procs.in_netns(pids["sshd"], h.netns),
        # None where the scenario runs no firewalld
        "firewalld_running": procs.in_netns(pids["firewalld"], h.netns) if pids["firewalld"] else None,
        "libvirt_uri": inventory.libvirt_uri(h),
        "local_libvirt_uri": daemons.local_uri(h),
    }


def _lab_hosts(data: dict[str, Any]) -> list[layout.Host]:
    """The hosts `up` recorded (a record from before `--hosts`, or none: the default two)."""
    names = data.get("hosts")
    if isinstance(names, list) and names and all(n in layout.ALL_HOSTS for n in names):
        return [layout.ALL_HOSTS[n] for n in names]
    return layout.first_hosts(layout.DEFAULT_HOSTS)


def _anchor(h: layout.Host) -> int:
    data = state.load()
    anchor = state.pids(data, h.name).get("anchor")
    if not procs.in_netns(anchor, h.netns):
        if data.get("phase") == "up" and h not in _lab_hosts(data):
            running = ", ".join(x.name for x in _lab_hosts(data))
            raise LabError(f"{h.name} is not in the lab, which runs {running}: bring it up with --hosts")
        raise LabError("the lab is not up: run `migdoctor lab up`")
    assert anchor is not None
    return anchor


def _guest_pids(h: layout.Host) -> list[int]:
    """QEMU processes from libvirt's per-domain pid files (driver.pid there is libvirtd's)."""
    pids = []
    for f in (h.run_libvirt / "qemu").glob("*.pid"):
        with contextlib.suppress(OSError, ValueError):
            pids.append(int(f.read_text().strip()))
    return [p for p in pids if procs.comm(p).startswith("qemu")]


def _need_root() -> None:
    if not sys.platform.startswith("linux"):
        raise LabError("the lab needs Linux (network namespaces)")
    if os.geteuid() != 0:
        raise LabError("the lab needs root (namespaces, mounts, daemons)")


def _need_programs(scn: scenarios.Scenario) -> None:
    """The programs a scenario's hosts run beyond the lab's own (firewalld, ufw, iptables-legacy)."""
    wanted = sorted(set().union(*(cfg.programs for cfg in scn.hosts.values())))
    missing = [p for p in wanted if not shutil.which(p)]
    if missing:
        raise LabError(f"scenario {scn.name} needs {', '.join(missing)}: run scripts/setup.sh")


def _preflight() -> None:
    _need_root()
    missing = [t for t in TOOLS if not shutil.which(t)]
    if missing:
        raise LabError(f"missing {', '.join(missing)}: run scripts/setup.sh")
    try:
        pwd.getpwnam("libvirt-qemu")
        grp.getgrnam("libvirt-qemu")
    except KeyError:
        raise LabError("libvirtd needs a libvirt-qemu user and group: run scripts/setup.sh") from None
