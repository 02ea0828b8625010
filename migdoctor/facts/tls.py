"""The TLS files libvirt and QEMU use for migrations. Certificates are kept as their public PEM
blocks only (parsed on the control node, where the cryptography package is); private keys are
recorded as path, existence and mode, and never opened. Standard library only: this runs on the
hypervisor."""

from __future__ import annotations

import os
import re
import stat
from typing import Any

LIBVIRT_FILES = {  # role: (libvirtd.conf key or None for the client side, default path)
    "ca": ("ca_file", "/etc/pki/CA/cacert.pem"),
    "server_cert": ("cert_file", "/etc/pki/libvirt/servercert.pem"),
    "server_key": ("key_file", "/etc/pki/libvirt/private/serverkey.pem"),
    "client_cert": (None, "/etc/pki/libvirt/clientcert.pem"),
    "client_key": (None, "/etc/pki/libvirt/private/clientkey.pem"),
}
QEMU_DIR = "/etc/pki/qemu"
QEMU_FILES = {
    "ca": "ca-cert.pem",
    "server_cert": "server-cert.pem",
    "server_key": "server-key.pem",
    "client_cert": "client-cert.pem",
    "client_key": "client-key.pem",
}
MAX_PEM_BYTES = 256 * 1024
CERTIFICATE_BLOCK = re.compile(r"-----BEGIN CERTIFICATE-----\s.*?-----END CERTIFICATE-----", re.DOTALL)


def key_file(path: str, source: str) -> dict[str, Any]:
    """A private key as a fact: where it is, whether it is there, who may read it. Never its content."""
    record: dict[str, Any] = {"path": path, "from": source, "exists": False, "mode": None}
    try:
        info = os.stat(path)
    except OSError:
        return record
    record.update(exists=True, mode=f"{stat.S_IMODE(info.st_mode):04o}")
    return record


def certificate_file(path: str, source: str) -> dict[str, Any]:
    """A certificate file's CERTIFICATE blocks only: a file that also holds a key (a combined
    PEM) gives up nothing else."""
    record: dict[str, Any] = {"path": path, "from": source, "exists": False, "pem": [], "error": None}
    try:
        with open(path, encoding="ascii", errors="replace") as handle:
            text = handle.read(MAX_PEM_BYTES)
    except FileNotFoundError:
        return record
    except OSError as exc:
        record.update(exists=os.path.exists(path), error=exc.strerror or str(exc))
        return record
    record.update(exists=True, pem=CERTIFICATE_BLOCK.findall(text))
    if not record["pem"]:
        record["error"] = "no PEM certificate in the file"
    return record


def file_fact(role: str, path: str, source: str) -> dict[str, Any]:
    return key_file(path, source) if role.endswith("_key") else certificate_file(path, source)


def libvirt_files(libvirtd_conf: dict[str, Any]) -> dict[str, Any]:
    """libvirtd's own certificates (libvirtd.conf, else the defaults) and the client side its
    outgoing peer-to-peer connections present."""
    files = {}
    for role, (key, default) in LIBVIRT_FILES.items():
        configured = libvirtd_conf.get(key) if key else None
        source = f"libvirtd.conf {key}" if configured else "default"
        files[role] = file_fact(role, str(configured or default), source)
    return files


def qemu_migration_files(qemu_conf: dict[str, Any]) -> dict[str, Any]:
    """The directory QEMU's migration TLS reads: migrate_tls_x509_cert_dir, else
    default_tls_x509_cert_dir, else /etc/pki/qemu."""
    for key in ("migrate_tls_x509_cert_dir", "default_tls_x509_cert_dir"):
        if qemu_conf.get(key):
            directory, source = str(qemu_conf[key]), f"qemu.conf {key}"
            break
    else:
        directory, source = QEMU_DIR, "default"
    files: dict[str, Any] = {"dir": directory, "dir_from": source}
    for role, name in QEMU_FILES.items():
        files[role] = file_fact(role, os.path.join(directory, name), source)
    return files


def collect_tls(config: dict[str, Any]) -> dict[str, Any]:
    def values(name: str) -> dict[str, Any]:
        return (config.get(name) or {}).get("values") or {}

    return {
        "libvirt": libvirt_files(values("libvirtd_conf")),
        "qemu_migrate": qemu_migration_files(values("qemu_conf")),
    }
