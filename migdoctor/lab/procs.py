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
            proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=out,
                                    start_new_session=True, cwd="/")
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
        if inode is None or os.stat(f"/proc/{pid}/ns/net").st_ino != inode:
            return False
        return _state(pid) not in ("Z", "X")
    except OSError:
        return False


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
    return [p for p in pids if _state(p) not in ("Z", "X", None)]


def child_pids(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except (OSError, ValueError):
        return []


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


def wait_for(check: Callable[[], bool], what: str, timeout: float,
             alive: Callable[[], str | None] = lambda: None) -> None:
    """Poll `check` until it holds; `alive` returns a reason when waiting is pointless."""
    deadline = time.monotonic() + timeout
    while True:
        if check():
            return
        reason = alive()
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
    """Reap `pid` if it is our child; gone means no such process or a zombie."""
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)
    return _state(pid) in (None, "Z", "X")
