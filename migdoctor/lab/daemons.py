"""The processes that make a namespace a hypervisor: an anchor, libvirtd and sshd (and, where a
scenario asks, a D-Bus system bus and firewalld).

The anchor is a `sleep` holding the host's private mount and UTS namespaces (bind mounts and
FQDN hostname done before it starts); everything else enters it with nsenter. Restarting
libvirtd therefore never loses the host's mounts, and `exec_prefix` has a PID that lives as
long as the host does.
"""

import re
import shlex
import subprocess
import threading
from typing import Any

from migdoctor.lab import hostfs, layout, procs, ssh
from migdoctor.lab.errors import LabError
from migdoctor.lab.scenario import HostConfig

LIBVIRTD_PIDFILE = "/run/libvirt/libvirtd.pid"  # inside the host; keeps the two daemons apart
# "2026-01-01 00:00:00.000+0000: 123: error : someFunction:42 : the message"
_LIBVIRT_ERROR = re.compile(r": error : \w+:\d+ : (.*)")


def enter(anchor: int) -> list[str]:
    """argv prefix that runs a command in a host's network, mount and UTS namespaces."""
    return ["nsenter", "-t", str(anchor), "-n", "-m", "-u"]


def start_anchor(h: layout.Host, cfg: HostConfig) -> int:
    """Create the host's private mounts and hostname; return the anchor's PID once done."""
    lines = ["set -e"]
    lines += [f"mount --bind {shlex.quote(str(src))} {shlex.quote(dst)}" for src, dst in hostfs.mounts(h, cfg)]
    if not cfg.kvm:
        lines.append("mount --bind /dev/null /dev/kvm")
    lines += [f"hostname {shlex.quote(cfg.hostname)}", "echo ready", "exec sleep infinity >/dev/null"]
    log = h.dir / "log" / "anchor.log"
    with open(log, "ab") as err:
        proc = subprocess.Popen(
            [
                "ip",
                "netns",
                "exec",
                h.netns,
                "unshare",
                "--mount",
                "--uts",
                "--propagation",
                "private",
                "sh",
                "-c",
                "\n".join(lines),
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=err,
            start_new_session=True,
            cwd="/",
        )
    assert proc.stdout is not None
    ready = proc.stdout.readline()
    proc.stdout.close()
    if ready != b"ready\n":
        proc.wait()
        raise LabError(f"{h.name}: namespace set-up failed: {procs.log_tail(log)}")
    return proc.pid


def start_libvirtd(h: layout.Host, anchor: int) -> int:
    """libvirtd under `tini -s`, which reaps the double-forked qemus at once; returns tini's PID."""
    argv = [*enter(anchor), "tini", "-s", "--", "/usr/sbin/libvirtd", "--listen", "--pid-file", LIBVIRTD_PIDFILE]
    return procs.spawn(argv, h.dir / "log" / "libvirtd.log")


def start_sshd(h: layout.Host, anchor: int) -> int:
    return procs.spawn([*enter(anchor), *ssh.sshd_argv(h)], h.dir / "log" / "sshd.log")


def start_firewalld(h: layout.Host, anchor: int) -> tuple[int, int]:
    """The host's own D-Bus system bus, then firewalld on it; returns (dbus-daemon, firewalld) PIDs.
    Both run in the foreground so the PIDs recorded are theirs; firewalld logs to its log file
    here, not to the machine's /var/log/firewalld."""
    dbus = procs.spawn(
        [*enter(anchor), "dbus-daemon", "--system", "--nofork", "--nopidfile"], h.dir / "log" / "dbus.log"
    )
    socket = h.dir / "run-dbus" / "system_bus_socket"

    def dbus_died() -> str | None:
        return None if procs.alive(dbus) else f"dbus-daemon exited: {procs.log_tail(h.dir / 'log' / 'dbus.log')}"

    procs.wait_for(socket.exists, f"{h.name}: dbus-daemon", 10.0, dbus_died)
    firewalld = procs.spawn(
        [*enter(anchor), "firewalld", "--nofork", "--nopid", "--log-target", "console"], h.dir / "log" / "firewalld.log"
    )
    return dbus, firewalld


def wait_firewalld(h: layout.Host, anchor: int, firewalld: int, timeout: float) -> None:
    """Until `firewall-cmd --state` says running (a few seconds after start: it loads its zones)."""

    def running() -> bool:
        argv = [*enter(anchor), "firewall-cmd", "--state"]
        return subprocess.run(argv, capture_output=True, check=False).returncode == 0

    def died() -> str | None:
        return (
            None if procs.alive(firewalld) else f"firewalld exited: {procs.log_tail(h.dir / 'log' / 'firewalld.log')}"
        )

    procs.wait_for(running, f"{h.name}: firewalld", timeout, died)


def run_setup(h: layout.Host, anchor: int, commands: list[list[str]]) -> None:
    """A scenario's set-up commands inside the host, in order; the first that fails names itself."""
    for argv in commands:
        procs.run([*enter(anchor), *argv], what=f"{h.name}: {shlex.join(argv)}")


def libvirtd_pid(h: layout.Host) -> int | None:
    try:
        return int((h.run_libvirt / "libvirtd.pid").read_text().strip())
    except (OSError, ValueError):
        return None


def local_uri(h: layout.Host) -> str:
    return f"qemu+unix:///system?socket={h.libvirt_sock}"


def open_libvirt(uri: str) -> Any:
    """libvirt.open with libvirt's own stderr error printing silenced (we raise instead)."""
    import libvirt

    libvirt.registerErrorHandler(lambda _ctx, _err: None, None)
    return libvirt.open(uri)


def wait_libvirtd(h: layout.Host, tini: int, timeout: float) -> None:
    """Wait until the daemon answers an RPC: its socket accepts before its drivers are ready,
    so only a real call proves readiness. The call blocks, hence the probing thread."""

    def died() -> str | None:
        if procs.alive(tini):
            return None
        return f"libvirtd exited: {libvirtd_failure(h)}"

    answered = threading.Event()
    stop = threading.Event()

    def probe() -> None:
        while not stop.is_set():
            try:
                conn = open_libvirt(local_uri(h))
                conn.getVersion()  # makes libvirtd probe qemu now, not on first use
                conn.close()
                answered.set()
                return
            except Exception:  # not listening yet (or a stale socket): try again
                stop.wait(procs.POLL)

    threading.Thread(target=probe, daemon=True).start()
    try:
        procs.wait_for(answered.is_set, f"{h.name}: libvirtd", timeout, died)
    finally:
        stop.set()


def libvirtd_failure(h: layout.Host) -> str:
    """The most telling line of a dead libvirtd's log: its last specific error."""
    log = h.dir / "log" / "libvirtd.log"
    try:
        lines = log.read_text(errors="replace").splitlines()
    except OSError:
        return "no log"
    for line in reversed(lines):
        m = _LIBVIRT_ERROR.search(line)
        if m and "Driver state initialization failed" not in m.group(1):
            return m.group(1)
    return procs.log_tail(log)


def wait_sshd(h: layout.Host, pid: int, timeout: float) -> None:
    def died() -> str | None:
        if procs.alive(pid):
            return None
        return f"sshd exited: {procs.log_tail(h.dir / 'log' / 'sshd.log')}"

    procs.wait_for(lambda: ssh.answers(h), f"{h.name}: sshd", timeout, died)
