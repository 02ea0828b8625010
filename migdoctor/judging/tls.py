"""Certificates as the checks judge them: the PEM blocks a host's facts carry, parsed here on the
control node with the cryptography package (hypervisors need nothing compiled). Parsing is a
pure, cached function of the text, so saved facts are judged exactly like fresh ones."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from migdoctor.judging.facts import config_values
from migdoctor.judging.pair import Pair

EXPIRY_WARNING_DAYS = 30
GROUPS = {"libvirt": "libvirt", "qemu_migrate": "QEMU migration"}


@dataclass(frozen=True)
class Certificate:
    subject: str
    issuer: str
    not_before: datetime
    not_after: datetime
    dns_names: tuple[str, ...]
    ip_addresses: tuple[str, ...]
    common_name: str | None
    is_ca: bool
    purposes: tuple[str, ...] | None  # extended key usage names; None: not restricted
    fingerprint: str
    pem: str


@lru_cache(maxsize=256)
def parse(pem: str) -> Certificate:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    cert = x509.load_pem_x509_certificate(pem.encode("ascii"))
    try:
        names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        dns, ips = names.get_values_for_type(x509.DNSName), names.get_values_for_type(x509.IPAddress)
    except x509.ExtensionNotFound:
        dns, ips = [], []
    try:
        is_ca = cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    except x509.ExtensionNotFound:
        is_ca = False
    try:
        usage = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        labels = {ExtendedKeyUsageOID.SERVER_AUTH: "serverAuth", ExtendedKeyUsageOID.CLIENT_AUTH: "clientAuth"}
        purposes: tuple[str, ...] | None = tuple(labels.get(oid, oid.dotted_string) for oid in usage)
    except x509.ExtensionNotFound:
        purposes = None
    common_names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return Certificate(
        subject=cert.subject.rfc4514_string(),
        issuer=cert.issuer.rfc4514_string(),
        not_before=cert.not_valid_before_utc,
        not_after=cert.not_valid_after_utc,
        dns_names=tuple(dns),
        ip_addresses=tuple(str(ip) for ip in ips),
        common_name=str(common_names[0].value) if common_names else None,
        is_ca=is_ca,
        purposes=purposes,
        fingerprint="SHA256:" + cert.fingerprint(hashes.SHA256()).hex(":"),
        pem=pem,
    )


def tls_file(facts: dict[str, Any], group: str, role: str) -> dict[str, Any] | None:
    return ((facts.get("tls") or {}).get(group) or {}).get(role)


def certificates(facts: dict[str, Any], group: str, role: str) -> list[Certificate]:
    """The certificates in one file, leaf first (a CA file may hold a bundle)."""
    record = tls_file(facts, group, role) or {}
    return [parse(pem) for pem in record.get("pem") or []]


def file_problem(facts: dict[str, Any], group: str, role: str) -> str | None:
    """Why the file at this role gives no certificate, or None when it does."""
    record = tls_file(facts, group, role)
    if record is None:
        return "TLS files not collected"
    if not record["exists"]:
        return f"{record['path']} does not exist"
    if record.get("error"):
        return f"{record['path']}: {record['error']}"
    try:
        found = certificates(facts, group, role)
    except ValueError as exc:
        return f"{record['path']}: not a readable certificate ({exc})"
    return None if found else f"{record['path']} holds no certificate"


def collected_at(facts: dict[str, Any]) -> datetime:
    """The time the facts describe: validity is judged then, so a saved report reads the same later."""
    return datetime.fromisoformat(facts["collected_at"]).astimezone(UTC)


def covers(cert: Certificate, name: str) -> bool:
    """Would a TLS client connecting to NAME accept this certificate's identity? IP SANs for an
    address, DNS SANs (one leading wildcard label) for a name, the CN only when there are no SANs."""
    name = name.strip("[]").rstrip(".").lower()
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        address = None
    if address is not None:
        return any(ipaddress.ip_address(ip) == address for ip in cert.ip_addresses) or (
            not cert.dns_names and not cert.ip_addresses and cert.common_name == name
        )
    patterns = cert.dns_names or ((cert.common_name,) if cert.common_name and not cert.ip_addresses else ())
    return any(dns_match(pattern.rstrip(".").lower(), name) for pattern in patterns)


def dns_match(pattern: str, name: str) -> bool:
    if pattern.startswith("*."):
        head, _, rest = name.partition(".")
        return bool(head) and rest == pattern[2:]
    return pattern == name


def issued_by(cert: Certificate, bundle: list[Certificate]) -> list[str] | None:
    """The chain from CERT up to a self-signed certificate of BUNDLE (subjects, leaf first), or
    None when no path of valid signatures leads there."""
    from cryptography import x509
    from cryptography.exceptions import InvalidSignature

    chain, current = [cert.subject], x509.load_pem_x509_certificate(cert.pem.encode("ascii"))
    for _ in range(len(bundle) + 1):
        for candidate in bundle:
            issuer = x509.load_pem_x509_certificate(candidate.pem.encode("ascii"))
            try:
                current.verify_directly_issued_by(issuer)
            except (ValueError, TypeError, InvalidSignature):  # another issuer, or a key it cannot check
                continue
            if issuer.subject == current.subject:  # self-signed: the anchor
                return chain
            chain.append(candidate.subject)
            current = issuer
            break
        else:
            return None
    return None


def libvirt_tls_uri(pair: Pair) -> str | None:
    """The destination URI when the source's libvirtd reaches it over TLS (qemu+tls, or qemu://host)."""
    uri = pair.intent.dst_libvirt_uri
    if not uri:
        return None
    url = urlsplit(uri)
    transport = url.scheme.partition("+")[2]
    return uri if transport == "tls" or (not transport and url.hostname) else None


def uri_host(uri: str) -> str:
    return urlsplit(uri).hostname or ""


def migration_tls(pair: Pair) -> str | None:
    """Why the migration stream itself uses TLS (--tls, or migrate_tls_force on either host), or None."""
    if pair.trial_terms.tls:
        return "--tls"
    for label, facts in ((pair.src_label, pair.src), (pair.dst_label, pair.dst)):
        if str(config_values(facts, "qemu_conf").get("migrate_tls_force", 0)) == "1":
            return f"{label}'s qemu.conf migrate_tls_force = 1"
    return None


@dataclass(frozen=True)
class TlsUse:
    """One TLS connection a migration makes: whose files, why TLS, the name the client checks."""

    group: str  # "libvirt" (the source libvirtd's connection) or "qemu_migrate" (the stream)
    why: str
    server_name: str
    verifies_client: bool

    @property
    def what(self) -> str:
        return GROUPS[self.group]

    @property
    def refusal(self) -> str:
        """What the client says when the server certificate lacks the name (libvirt's, QEMU's words)."""
        if self.group == "libvirt":
            return f"Certificate [session] owner does not match the hostname {self.server_name}"
        return f"Certificate does not match the hostname {self.server_name}"


def verify_setting(facts: dict[str, Any]) -> int:
    """QEMU's migrate_tls_x509_verify as libvirt resolves it: else default_tls_x509_verify, else 1."""
    values = config_values(facts, "qemu_conf")
    for key in ("migrate_tls_x509_verify", "default_tls_x509_verify"):
        if key in values:
            return int(values[key])
    return 1


def tls_uses(pair: Pair) -> list[TlsUse]:
    from migdoctor.judging.facts import advertised_name

    uses = []
    uri = libvirt_tls_uri(pair)
    if uri:
        no_verify = str(config_values(pair.dst, "libvirtd_conf").get("tls_no_verify_certificate", 0)) == "1"
        uses.append(TlsUse("libvirt", f"the URI {uri}", uri_host(uri), not no_verify))
    why = migration_tls(pair)
    if why:
        stream_host = (
            uri_host(pair.trial_terms.migrate_uri) if pair.trial_terms.migrate_uri else advertised_name(pair.dst)[0]
        )
        uses.append(TlsUse("qemu_migrate", why, stream_host, verify_setting(pair.dst) != 0))
    return uses
