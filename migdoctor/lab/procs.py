"""Starting, finding and stopping the lab's processes.

A process belongs to the lab when it lives in one of the lab's network namespaces: that is the
test before any signal is sent, so a recycled PID can never make the lab kill a stranger.
"""

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from migdoctor.lab import layout
from migdoctor.lab.errors import LabError

POLL = 0.02


def run(argv: list[str], *, input: str | None = None, what: str | None = None) -> str:
    """Run a set-up command; on failure raise LabError with its first error line."""
    try:
        proc = subprocess.run(argv, input=input, capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise LabError(f"{argv[0]} not found: run scripts/setup.sh") from None
    if proc.returncode != 0:
        lines = (proc.stderr or proc.stdout).strip().splitlines()
        detail = lines[0] if lines else f"exit status {proc.returncode}"
        raise LabError(f"{what or ' '.join(argv[:3])} failed: {detail}")
    return proc.stdout


def spawn(argv: list[str], log: Path) -> int:
    """Start a long-running daemon detached from our session, output to `log`; return its PID."""
    with open(log, "ab") as out:
        try:
            proc = subprocess.Popen(
                argv, stdin=subprocess.DEVNULL, stdout=out, stderr=out, start_new_session=True, cwd="/"
            )
        except FileNotFoundError:
            raise LabError(f"{argv[0]} not found: run scripts/setup.sh") from None
    return proc.pid


def netns_inode(netns: str) -> int | None:
    try:
        return os.stat(f"/run/netns/{netns}").st_ino
    except OSError:
        return None


def in_netns(pid: int | None, netns: str) -> bool:
    """True when `pid` is alive (not a zombie) and inside lab namespace `netns`."""
    if not pid:
        return False
    inode = netns_inode(netns)
    try:
        return inode is not None and os.stat(f"/proc/{pid}/ns/net").st_ino == inode and alive(pid)
    except OSError:
        return False


def alive(pid: int) -> bool:
    """Running (not a zombie). For readiness waits: a process we just started may not have
    entered its namespace yet, so `in_netns` would call it dead."""
    return _state(pid) not in (None, "Z", "X")


def netns_pids(netns: str) -> list[int]:
    """Every live process inside namespace `netns` (what `ip netns pids` lists)."""
    inode = netns_inode(netns)
    if inode is None:
        return []
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError):
                if os.stat(f"/proc/{entry}/ns/net").st_ino == inode:
                    pids.append(int(entry))
    return [p for p in pids if alive(p)]


def comm(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


def kill(pids: Iterable[int], netns: str, sig: int = signal.SIGKILL, timeout: float = 3.0) -> None:
    """Signal the lab processes among `pids` and wait until each is gone (or a zombie)."""
    targets = [p for p in pids if in_netns(p, netns)]
    for pid in targets:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)
    deadline = time.monotonic() + timeout
    for pid in targets:
        while not _gone(pid):
            if time.monotonic() > deadline:
                raise LabError(f"process {pid} ({comm(pid)}) did not exit")
            time.sleep(POLL)


def wait_for(
    check: Callable[[], bool], what: str, timeout: float, failed: Callable[[], str | None] = lambda: None
) -> None:
    """Poll `check` until it holds; `failed` returns a reason when waiting is pointless."""
    deadline = time.monotonic() + timeout
    while True:
        if check():
            return
        reason = failed()
        if reason:
            raise LabError(f"{what}: {reason}")
        if time.monotonic() > deadline:
            raise LabError(f"{what}: not ready after {timeout:.0f} s")
        time.sleep(POLL)


def log_tail(log: Path) -> str:
    """The last meaningful line of a daemon's log, for one-line errors."""
    try:
        lines = [ln.strip() for ln in log.read_text(errors="replace").splitlines() if ln.strip()]
    except OSError:
        return "no log"
    return lines[-1] if lines else "no output"


def _state(pid: int) -> str | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rpartition(")")[2].split()[0]


def _gone(pid: int) -> bool:
    """Reap `pid` if it is our child. A zombie counts as gone unless its parent is a lab
    process (a `tini -s` about to reap it): then waiting keeps the process table clean."""
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)
    state = _state(pid)
    if state is None:
        return True
    if state not in ("Z", "X"):
        return False
    return not _parent_in_lab(pid)


def _parent_in_lab(pid: int) -> bool:
    try:
        ppid = int(Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[1])
        parent_netns = os.stat(f"/proc/{ppid}/ns/net").st_ino
    except (OSError, ValueError, IndexError):
        return False
    return parent_netns in {netns_inode(ns) for ns in layout.namespaces()}
