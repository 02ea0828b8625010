"""The admins who log in to the lab hosts as themselves: one with passwordless sudo (become), one
whose sudo asks for a password. The lab hosts share this machine's /etc/passwd and
/etc/sudoers.d, so `down` removes both users, their sudoers file and sudo's time stamps."""

import contextlib
import pwd
from pathlib import Path

from migdoctor.lab import procs

ADMIN = "mdlab-admin"  # sudo without a password: `become = true` works
ASKS_PASSWORD = "mdlab-askpass"  # sudo asks for a password: `become` must fail fast
USERS = (ADMIN, ASKS_PASSWORD)
SUDOERS = Path("/etc/sudoers.d/migdoctor-lab")
SUDO_TIMESTAMPS = Path("/run/sudo/ts")


def create() -> None:
    for name in USERS:
        if not exists(name):  # '*': no password, and not locked (sshd refuses locked accounts)
            procs.run(["useradd", "-M", "-d", "/", "-s", "/bin/sh", "-p", "*", name], what=f"useradd {name}")
    SUDOERS.write_text(
        "# written by migdoctor lab; removed by `migdoctor lab down`\n"
        f"Defaults:{ADMIN},{ASKS_PASSWORD} !lecture, timestamp_timeout=0\n"
        f"{ADMIN} ALL=(ALL) NOPASSWD: ALL\n"
        f"{ASKS_PASSWORD} ALL=(ALL) ALL\n"
    )
    SUDOERS.chmod(0o440)


def remove() -> None:
    SUDOERS.unlink(missing_ok=True)
    for name in USERS:
        if exists(name):
            procs.run(["userdel", name], what=f"userdel {name}")
        with contextlib.suppress(OSError):
            (SUDO_TIMESTAMPS / name).unlink()


def exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True
