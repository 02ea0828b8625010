"""SSH into the lab: generated keys, each host's sshd config, and the client side files.

Clients verify host keys strictly (known_hosts written here), the way a real fleet should be
reached; libvirt's qemu+ssh transport runs the `ssh` wrapper so it picks up the same config.
"""

import shutil
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from migdoctor.lab import layout, procs
from migdoctor.lab.errors import LabError

CLIENT_KEY = layout.STATE_DIR / "id_ed25519"
AUTHORIZED_KEYS = layout.STATE_DIR / "authorized_keys"
KNOWN_HOSTS = layout.STATE_DIR / "known_hosts"
SSH_CONFIG = layout.STATE_DIR / "ssh_config"
SSH_WRAPPER = layout.STATE_DIR / "ssh"


def host_key(h: layout.Host) -> Path:
    return h.dir / "ssh" / "ssh_host_ed25519_key"


def sshd_config(h: layout.Host) -> Path:
    return h.dir / "ssh" / "sshd_config"


def write_all(hosts: list[layout.Host]) -> None:
    """Generate the client key and every host key, then write both sides' configs."""
    _keygen(CLIENT_KEY, "migdoctor-lab")
    AUTHORIZED_KEYS.write_text(CLIENT_KEY.with_suffix(".pub").read_text())
    AUTHORIZED_KEYS.chmod(0o644)  # read as each user logging in (root and the lab's admins)
    known, client = [], []
    for h in hosts:
        (h.dir / "ssh").mkdir(parents=True, exist_ok=True)
        _keygen(host_key(h), h.fqdn)
        sshd_config(h).write_text(_sshd_config(h))
        known.append(f"{h.name},{h.fqdn},{h.mgmt.ip} {_public(host_key(h))}")
        client.append(_client_block(h))
    KNOWN_HOSTS.write_text("\n".join(known) + "\n")
    SSH_CONFIG.write_text("# written by migdoctor lab\n" + "\n".join(client))
    SSH_WRAPPER.write_text(f'#!/bin/sh\nexec ssh -F {SSH_CONFIG} "$@"\n')
    SSH_WRAPPER.chmod(0o755)


@dataclass(frozen=True)
class RootSsh:
    """A host's own /root/.ssh, as its libvirtd's plain qemu+ssh connections read it: the lab's
    client key, and known_hosts lines for NAMES (the key their host has) and STALE names (a key
    that host no longer has, as after a reinstall)."""

    known_hosts: tuple[str, ...] = ()
    stale: tuple[str, ...] = ()


def root_ssh_spec(where: str, raw: dict[str, Any]) -> RootSsh:
    for key, value in raw.items():
        if key not in ("known_hosts", "stale") or not isinstance(value, list):
            raise LabError(f"{where}: root_ssh.{key} is not one of known_hosts, stale (lists of names)")
    for name in [*raw.get("known_hosts", []), *raw.get("stale", [])]:
        owner_of(where, str(name))
    return RootSsh(tuple(map(str, raw.get("known_hosts", []))), tuple(map(str, raw.get("stale", []))))


def owner_of(where: str, name: str) -> layout.Host:
    """The lab host a name or address belongs to."""
    for h in layout.ALL_HOSTS.values():
        if name in (h.name, h.fqdn, *(link.dns_name for link in h.links), *(link.ip for link in h.links)):
            return h
    raise LabError(f"{where}: root_ssh names {name!r}, which is no lab host's name or address")


def write_root_ssh(h: layout.Host, spec: RootSsh) -> None:
    directory = h.dir / layout.ROOT_SSH_DIR[0]
    directory.mkdir(parents=True, exist_ok=True)
    directory.chmod(0o700)
    for suffix in ("", ".pub"):
        shutil.copy2(CLIENT_KEY.with_suffix(suffix), directory / f"id_ed25519{suffix}")
    lines = []
    for name in spec.known_hosts:
        lines.append(f"{name} {_public(host_key(owner_of(h.name, name)))}")
    if spec.stale:
        stale_key = h.dir / "stale-host-key"
        _keygen(stale_key, "a key from before the reinstall")
        lines += [f"{name} {_public(stale_key)}" for name in spec.stale]
    (directory / "known_hosts").write_text("\n".join(lines) + "\n")


def _public(key: Path) -> str:
    return " ".join(key.with_suffix(".pub").read_text().split()[:2])


def sshd_argv(h: layout.Host) -> list[str]:
    """Foreground sshd (-D) logging to stderr (-e): its PID is the one we start."""
    return ["/usr/sbin/sshd", "-D", "-e", "-f", str(sshd_config(h))]


def answers(h: layout.Host) -> bool:
    """sshd is ready when its management address sends an SSH banner."""
    try:
        with socket.create_connection((h.mgmt.ip, layout.SSH_PORT), timeout=0.5) as s:
            return s.recv(8).startswith(b"SSH-")
    except OSError:
        return False


def _keygen(path: Path, comment: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    procs.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", str(path)],
        what=f"ssh-keygen for {comment}",
    )


def _sshd_config(h: layout.Host) -> str:
    return f"""# written by migdoctor lab for {h.fqdn}
Port {layout.SSH_PORT}
ListenAddress 0.0.0.0
HostKey {host_key(h)}
PidFile none
PermitRootLogin prohibit-password
PubkeyAuthentication yes
AuthorizedKeysFile {AUTHORIZED_KEYS}
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
UseDNS no
PrintMotd no
PrintLastLog no
MaxStartups 50:30:100
Subsystem sftp internal-sftp
"""


def _client_block(h: layout.Host) -> str:
    return f"""Host {h.name} {h.fqdn}
    HostName {h.mgmt.ip}
    User root
    IdentityFile {CLIENT_KEY}
    IdentitiesOnly yes
    UserKnownHostsFile {KNOWN_HOSTS}
    GlobalKnownHostsFile /dev/null
    StrictHostKeyChecking yes
    BatchMode yes
    ConnectTimeout 5
    LogLevel ERROR
"""
