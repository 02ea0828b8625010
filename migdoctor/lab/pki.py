"""The lab's certificates, made at `lab up` with the cryptography package: one lab CA, and for
each host a scenario gives `tls`, a server and a client certificate in the places libvirt and
QEMU read them (/etc/pki/{CA,libvirt,qemu}, the host's private /etc/pki). `lab down` removes them
with the state directory. Keys are ECDSA P-256: quick to make, accepted by GnuTLS."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from migdoctor.lab import layout
from migdoctor.lab.errors import LabError

CA_CERT = layout.STATE_DIR / "lab-ca.pem"
CA_KEY = layout.STATE_DIR / "lab-ca-key.pem"
CA_NAME = "migdoctor lab CA"
TLS_KEYS: dict[str, type] = {"server_names": list, "valid_days": int}


@dataclass(frozen=True)
class TlsSpec:
    """What a scenario asks of a host's certificates."""

    server_names: tuple[str, ...]
    valid_days: int = 365  # negative: expired that many days ago


def spec(where: str, raw: dict[str, Any]) -> TlsSpec:
    for key, value in raw.items():
        if key not in TLS_KEYS or not isinstance(value, TLS_KEYS[key]):
            raise LabError(f"{where}: tls.{key} is not one of server_names (list), valid_days (int)")
    return TlsSpec(tuple(str(name) for name in raw.get("server_names", [])), raw.get("valid_days", 365))


def _name(common_name: str) -> Any:
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "migdoctor lab"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _pem_key(key: Any) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _write(path: Path, data: bytes, mode: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    path.chmod(mode)


def make_ca() -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(CA_NAME))
        .issuer_name(_name(CA_NAME))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(_usage(cert_sign=True), critical=True)
        .sign(key, hashes.SHA256())
    )
    _write(CA_KEY, _pem_key(key), 0o600)
    _write(CA_CERT, cert.public_bytes(serialization.Encoding.PEM), 0o644)


def _usage(cert_sign: bool = False) -> Any:
    from cryptography import x509

    return x509.KeyUsage(
        digital_signature=not cert_sign,
        content_commitment=False,
        key_encipherment=not cert_sign,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=cert_sign,
        crl_sign=cert_sign,
        encipher_only=False,
        decipher_only=False,
    )


def _issue(common_name: str, names: tuple[str, ...], purpose: str, valid_days: int) -> tuple[bytes, bytes]:
    """(certificate PEM, key PEM) signed by the lab CA."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID

    ca_key = serialization.load_pem_private_key(CA_KEY.read_bytes(), None)
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.now(UTC)
    not_after = now + timedelta(days=valid_days)
    alt_names: list[x509.GeneralName] = []
    for name in names:
        try:
            alt_names.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            alt_names.append(x509.DNSName(name))
    oid = ExtendedKeyUsageOID.SERVER_AUTH if purpose == "server" else ExtendedKeyUsageOID.CLIENT_AUTH
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name))
        .issuer_name(_name(CA_NAME))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(min(now, not_after) - timedelta(days=1 if valid_days > 0 else 400))
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_usage(), critical=True)
        .add_extension(x509.ExtendedKeyUsage([oid]), critical=False)
    )
    if alt_names:
        builder = builder.add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
    cert = builder.sign(ca_key, hashes.SHA256())  # type: ignore[arg-type]
    return cert.public_bytes(serialization.Encoding.PEM), _pem_key(key)


def write_host(h: layout.Host, tls: TlsSpec) -> None:
    """The host's /etc/pki as libvirt (libvirtd.conf defaults) and QEMU (/etc/pki/qemu) expect it."""
    pki = h.dir / layout.PKI_DIR[0]
    server, server_key = _issue(f"{h.fqdn} server", tls.server_names, "server", tls.valid_days)
    client, client_key = _issue(f"{h.fqdn} client", (h.fqdn,), "client", 365)
    ca = CA_CERT.read_bytes()
    files = {
        "CA/cacert.pem": (ca, 0o644),
        "libvirt/servercert.pem": (server, 0o644),
        "libvirt/private/serverkey.pem": (server_key, 0o600),
        "libvirt/clientcert.pem": (client, 0o644),
        "libvirt/private/clientkey.pem": (client_key, 0o600),
        "qemu/ca-cert.pem": (ca, 0o644),
        "qemu/server-cert.pem": (server, 0o644),
        "qemu/server-key.pem": (server_key, 0o600),
        "qemu/client-cert.pem": (client, 0o644),
        "qemu/client-key.pem": (client_key, 0o600),
    }
    for relative, (data, mode) in files.items():
        _write(pki / relative, data, mode)
