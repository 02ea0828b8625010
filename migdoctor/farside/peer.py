"""The peer connection, on the source: as the account its libvirtd runs as, open the destination's
libvirt URI the way libvirtd does for a peer-to-peer migration, and keep the words ssh, TLS or
libvirt answered with. Never prompts (ssh in batch mode, stdin closed, no terminal) and never
waits longer than PEER_TIMEOUT_S. Standard library only."""

from __future__ import annotations

import os
import pwd
import socket
import subprocess
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

PEER_TIMEOUT_S = 15.0
SSH_CONNECT_TIMEOUT_S = 5
SSH_TRANSPORTS = ("ssh", "libssh", "libssh2")
DEFAULT_PORTS = {"tcp": 16509, "tls": 16514}
LIBVIRT_DAEMONS = ("libvirtd", "virtqemud", "virtproxyd")
PKI = {
    "ca": "/etc/pki/CA/cacert.pem",
    "cert": "/etc/pki/libvirt/clientcert.pem",
    "key": "/etc/pki/libvirt/private/clientkey.pem",
}
# What libvirt's own ssh transport runs on the far end, cut down to "is libvirt there".
REMOTE_PROBE = (
    "sh -c 'for s in /var/run/libvirt/virtqemud-sock /var/run/libvirt/libvirt-sock; do "
    'test -S "$s" && echo "libvirt socket $s" && exit 0; done; echo "no libvirt socket"; exit 3\''
)
MAX_OUTPUT_LINES = 20


def libvirtd_account() -> tuple[str, int | None]:
    """The user the local libvirt daemon runs as, from /proc; None when no daemon runs."""
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as handle:
                status = dict(line.split(":", 1) for line in handle if ":" in line)
        except OSError:
            continue
        if status.get("Name", "").strip() in LIBVIRT_DAEMONS:
            uid = int(status["Uid"].split()[1])  # effective uid
            return pwd.getpwuid(uid).pw_name, uid
    return pwd.getpwuid(os.geteuid()).pw_name, None


def ssh_argv(url: Any, params: dict[str, str]) -> list[str]:
    """The command line libvirt's ssh transport builds (virNetSocketNewConnectSSH), in batch mode.
    The libssh/libssh2 transports are libvirt's own ssh clients; OpenSSH stands in for them, with
    the known_hosts file their URI names."""
    argv = [params.get("command", "ssh"), "-o", "BatchMode=yes", "-o", f"ConnectTimeout={SSH_CONNECT_TIMEOUT_S}"]
    if url.port:
        argv += ["-p", str(url.port)]
    if url.username:
        argv += ["-l", url.username]
    if params.get("keyfile"):
        argv += ["-i", params["keyfile"]]
    argv += ["-T", "-e", "none"]
    if params.get("no_verify") == "1":
        argv += ["-o", "StrictHostKeyChecking=no"]
    if params.get("known_hosts"):  # the libssh transports' own known_hosts file
        argv += ["-o", f"UserKnownHostsFile={params['known_hosts']}"]
    return [*argv, "--", url.hostname or "", REMOTE_PROBE]


def daemon_environment(account: str) -> dict[str, str]:
    """What a daemon has, not what our caller's session has: no forwarded agent (SSH_AUTH_SOCK)
    may lend the connection a key libvirtd will not have."""
    home = pwd.getpwnam(account).pw_dir
    path = os.environ.get("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
    return {"PATH": path, "HOME": home, "USER": account, "LOGNAME": account, "LC_ALL": "C"}


def run_as(argv: list[str], account: str, uid: int | None, timeout: float) -> dict[str, Any]:
    """Run ARGV as UID (when we are root and it is another user), no stdin, no terminal."""
    extra: dict[str, Any] = {}
    if uid is not None and os.geteuid() == 0 and uid != 0:
        extra["user"] = uid
    started = time.monotonic()
    try:
        done = subprocess.run(
            argv,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
            start_new_session=True,  # no controlling terminal: nothing can prompt
            env=daemon_environment(account),
            check=False,
            **extra,
        )
    except subprocess.TimeoutExpired:
        return {"ok": False, "exit": None, "output": [f"no answer within {timeout:.0f} s"], "seconds": timeout}
    except OSError as exc:
        return {"ok": False, "exit": None, "output": [f"{argv[0]}: {exc.strerror}"], "seconds": 0.0}
    lines = [line.strip() for line in (done.stderr + done.stdout).splitlines() if line.strip()]
    return {
        "ok": done.returncode == 0,
        "exit": done.returncode,
        "output": lines[-MAX_OUTPUT_LINES:],
        "seconds": round(time.monotonic() - started, 3),
    }


def tls_handshake(host: str, port: int, params: dict[str, str], timeout: float) -> dict[str, Any]:
    """A TLS handshake with the client certificate and CA libvirt would use (no libvirt client here).
    It proves the destination's identity to the source; the destination's verdict on the client
    certificate (after the handshake in TLS 1.3) and libvirt's auth show only in virsh."""
    import ssl  # here, not at the top: see virsh_installed

    pki = params.get("pkipath")
    paths = {
        "ca": os.path.join(pki, "cacert.pem") if pki else PKI["ca"],
        "cert": os.path.join(pki, "clientcert.pem") if pki else PKI["cert"],
        "key": os.path.join(pki, "clientkey.pem") if pki else PKI["key"],
    }
    started = time.monotonic()
    try:
        context = ssl.create_default_context(cafile=paths["ca"])
        if params.get("no_verify") == "1":
            context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
        if os.path.exists(paths["cert"]):
            context.load_cert_chain(paths["cert"], paths["key"])
        with (
            socket.create_connection((host, port), timeout=timeout) as raw,
            context.wrap_socket(raw, server_hostname=host) as tls,
        ):
            words = f"TLS handshake with {host}:{port} done ({tls.version()})"
        ok = True
    except (OSError, ssl.SSLError, ValueError) as exc:
        words, ok = f"{type(exc).__name__}: {getattr(exc, 'verify_message', None) or exc}", False
    return {"ok": ok, "exit": None, "output": [words], "seconds": round(time.monotonic() - started, 3)}


def tcp_connect(host: str, port: int, timeout: float) -> dict[str, Any]:
    started = time.monotonic()
    try:
        with socket.create_connection((host, port), timeout=timeout):
            words, ok = f"TCP connection to {host}:{port} accepted (libvirt's auth not tried: no virsh here)", True
    except OSError as exc:
        words, ok = f"{type(exc).__name__}: {exc.strerror or exc}", False
    return {"ok": ok, "exit": None, "output": [words], "seconds": round(time.monotonic() - started, 3)}


def virsh_installed() -> bool:
    """Imports shutil only here (and ssl only for a TLS handshake): on the source this module is
    imported beside the facts' own imports, and an ssh URI's handshake, the slowest active step,
    starts only once its imports are done."""
    import shutil

    return shutil.which("virsh") is not None


def connect(uri: str, timeout: float = PEER_TIMEOUT_S) -> dict[str, Any]:
    """Open URI as libvirtd's account would, and say how it went."""
    url = urlsplit(uri)
    transport = url.scheme.partition("+")[2] or ("tls" if url.hostname else "unix")
    params = {key: values[-1] for key, values in parse_qs(url.query).items()}
    account, uid = libvirtd_account()
    record: dict[str, Any] = {
        "uri": uri,
        "transport": transport,
        "host": url.hostname or "",
        "account": account,
        "daemon_found": uid is not None,
        "ran_as": pwd.getpwuid(uid if uid is not None and os.geteuid() == 0 else os.geteuid()).pw_name,
    }
    if transport in SSH_TRANSPORTS:
        argv = ssh_argv(url, params)
        record.update(method="ssh", argv=argv, **run_as(argv, record["ran_as"], uid, timeout))
    elif transport in DEFAULT_PORTS and virsh_installed():
        argv = ["virsh", "-c", uri, "hostname"]
        record.update(method="virsh", argv=argv, **run_as(argv, record["ran_as"], uid, timeout))
    elif transport == "tls":
        port = url.port or DEFAULT_PORTS["tls"]
        record.update(method="tls-handshake", argv=[], **tls_handshake(url.hostname or "", port, params, timeout))
    elif transport == "tcp":
        port = url.port or DEFAULT_PORTS["tcp"]
        record.update(method="tcp-connect", argv=[], **tcp_connect(url.hostname or "", port, timeout))
    else:
        record.update(
            method="none", argv=[], ok=None, exit=None, output=[f"{transport}: not a remote URI"], seconds=0.0
        )
    return record
