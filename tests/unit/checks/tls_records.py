"""Real certificates for the TLS checks, made with the cryptography package at test time (fixed
dates, so the verdicts do not move with the clock), and the facts records' `tls` part built from
them the way migdoctor.facts.tls collects it."""

from __future__ import annotations

import ipaddress
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

# The captured lab facts were collected on 2026-11-27 (tests/data/facts).
COLLECTED = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
KEY_PEM = "-----BEGIN PRIVATE KEY-----"


@cache
def key(name: str) -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def name(cn: str) -> x509.Name:
    return x509.Name(
        [x509.NameAttribute(NameOID.ORGANIZATION_NAME, "lab"), x509.NameAttribute(NameOID.COMMON_NAME, cn)]
    )


def make(
    cn: str,
    *,
    issuer: str | None = None,
    sans: tuple[str, ...] = (),
    purpose: str | None = "serverAuth",
    not_before: datetime = COLLECTED - timedelta(days=10),
    not_after: datetime = COLLECTED + timedelta(days=365),
) -> str:
    """A PEM certificate for CN, signed by ISSUER's key (a CA made with make(ISSUER)), or self-signed."""
    builder = (
        x509.CertificateBuilder()
        .subject_name(name(cn))
        .issuer_name(name(issuer or cn))
        .public_key(key(cn).public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=issuer is None, path_length=None), critical=True)
    )
    if sans:
        entries: list[x509.GeneralName] = []
        for san in sans:
            try:
                entries.append(x509.IPAddress(ipaddress.ip_address(san)))
            except ValueError:
                entries.append(x509.DNSName(san))
        builder = builder.add_extension(x509.SubjectAlternativeName(entries), critical=False)
    if issuer and purpose:
        oid = {"serverAuth": ExtendedKeyUsageOID.SERVER_AUTH, "clientAuth": ExtendedKeyUsageOID.CLIENT_AUTH}[purpose]
        builder = builder.add_extension(x509.ExtendedKeyUsage([oid]), critical=False)
    cert = builder.sign(key(issuer or cn), hashes.SHA256())
    return cert.public_bytes(serialization.Encoding.PEM).decode("ascii")


def cert_file(path: str, *pems: str) -> dict[str, Any]:
    return {"path": path, "from": "default", "exists": bool(pems), "pem": list(pems), "error": None}


def key_file(path: str) -> dict[str, Any]:
    return {"path": path, "from": "default", "exists": True, "mode": "0600"}


def host_tls(host: str, names: tuple[str, ...], ca: str = "Lab CA", **server: Any) -> dict[str, Any]:
    """A host's `tls` facts: libvirt and QEMU files signed by CA, the server certificate naming NAMES."""
    ca_pem = make(ca)
    server_pem = make(f"{host} server", issuer=ca, sans=names, **server)
    client_pem = make(f"{host} client", issuer=ca, purpose="clientAuth")
    libvirt = {
        "ca": cert_file("/etc/pki/CA/cacert.pem", ca_pem),
        "server_cert": cert_file("/etc/pki/libvirt/servercert.pem", server_pem),
        "server_key": key_file("/etc/pki/libvirt/private/serverkey.pem"),
        "client_cert": cert_file("/etc/pki/libvirt/clientcert.pem", client_pem),
        "client_key": key_file("/etc/pki/libvirt/private/clientkey.pem"),
    }
    qemu = {
        "dir": "/etc/pki/qemu",
        "dir_from": "default",
        "ca": cert_file("/etc/pki/qemu/ca-cert.pem", ca_pem),
        "server_cert": cert_file("/etc/pki/qemu/server-cert.pem", server_pem),
        "server_key": key_file("/etc/pki/qemu/server-key.pem"),
        "client_cert": cert_file("/etc/pki/qemu/client-cert.pem", client_pem),
        "client_key": key_file("/etc/pki/qemu/client-key.pem"),
    }
    return {"libvirt": libvirt, "qemu_migrate": qemu}


HOSTA_NAMES = ("hosta.lab.test", "hosta-fast.lab.test", "198.51.100.1")
HOSTB_NAMES = ("hostb.lab.test", "hostb-fast.lab.test", "198.51.100.2")
TLS_URI = "qemu+tls://hostb.lab.test/system"


def with_tls(facts: dict[str, Any], host: str, names: tuple[str, ...], **kwargs: Any) -> None:
    """Give a captured facts record TLS files, collected at COLLECTED."""
    facts["tls"] = host_tls(host, names, **kwargs)
    facts["collected_at"] = COLLECTED.isoformat()
