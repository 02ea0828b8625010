"""SSH into the lab: generated keys, each host's sshd config, and the client side files.

Clients verify host keys strictly (known_hosts written here), the way a real fleet should be
reached; libvirt's qemu+ssh transport runs the `ssh` wrapper so it picks up the same config.
"""

import socket
from pathlib import Path

from migdoctor.lab import layout, procs

CLIENT_KEY = layout.STATE_DIR / "id_ed25519"
AUTHORIZED_KEYS = layout.STATE_DIR / "authorized_keys"
KNOWN_HOSTS = layout.STATE_DIR / "known_hosts"
SSH_CONFIG = layout.STATE_DIR / "ssh_config"
SSH_WRAPPER = layout.STATE_DIR / "ssh"


def host_key(h: layout.Host) -> Path:
    return h.dir / "ssh" / "ssh_host_ed25519_key"


def sshd_config(h: layout.Host) -> Path:
    return h.dir / "ssh" / "sshd_config"


def write_all() -> None:
    """Generate the client key and every host key, then write both sides' configs."""
    _keygen(CLIENT_KEY, "migdoctor-lab")
    AUTHORIZED_KEYS.write_text(CLIENT_KEY.with_suffix(".pub").read_text())
    AUTHORIZED_KEYS.chmod(0o600)
    known, client = [], []
    for h in layout.LAB_HOSTS.values():
        (h.dir / "ssh").mkdir(parents=True, exist_ok=True)
        _keygen(host_key(h), h.fqdn)
        sshd_config(h).write_text(_sshd_config(h))
        pub = " ".join(host_key(h).with_suffix(".pub").read_text().split()[:2])
        known.append(f"{h.name},{h.fqdn},{h.mgmt.ip} {pub}")
        client.append(_client_block(h))
    KNOWN_HOSTS.write_text("\n".join(known) + "\n")
    SSH_CONFIG.write_text("# written by migdoctor lab\n" + "\n".join(client))
    SSH_WRAPPER.write_text(f'#!/bin/sh\nexec ssh -F {SSH_CONFIG} "$@"\n')
    SSH_WRAPPER.chmod(0o755)


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
