"""TLS on the migration path: the source libvirtd's qemu+tls connection and QEMU's TLS migration
stream. The destination's server certificate must name what the source connects to, every
certificate must be valid, each side's certificate must chain to the other's CA, and both hosts
must agree on when TLS is forced and verified."""

from __future__ import annotations

from migdoctor.checkapi import Evidence, Outcome, Registry, Skip, failed, passed, warned
from migdoctor.judging.facts import config_values, is_address
from migdoctor.judging.pair import Pair
from migdoctor.judging.tls import (
    EXPIRY_WARNING_DAYS,
    Certificate,
    TlsUse,
    certificates,
    collected_at,
    covers,
    file_problem,
    issued_by,
    tls_file,
    tls_uses,
    verify_setting,
)

registry = Registry(order=110)
TLS_FACTS = ("src.tls", "dst.tls")


def uses_or_skip(pair: Pair) -> list[TlsUse]:
    uses = tls_uses(pair)
    if not uses:
        raise Skip(
            "no TLS on the migration path: the URI is not qemu+tls, no --tls, migrate_tls_force off on both hosts"
        )
    return uses


def path_of(pair: Pair, side: str, group: str, role: str) -> str:
    facts = pair.src if side == "src" else pair.dst
    return str((tls_file(facts, group, role) or {}).get("path", role))


@registry.check(
    "tls.server-names",
    "The destination's server certificate names the host the source connects to (URI host, migration_host)",
    "high",
    needs=TLS_FACTS,
    description=(
        "the destination's server certificate does not name what the source connects to: the URI host "
        "(libvirt's qemu+tls) and the name the destination advertises for a TLS stream (`migration_host`, "
        "else its hostname; the host of `--migrate-uri` when given); DNS and IP SANs, one wildcard label, the "
        "CN only without SANs"
    ),
    rationale=(
        "A certificate lacking the name or address actually used fails the TLS handshake with `Certificate "
        "[session] owner does not match the hostname` (vexxhost/atmosphere 2553; autotest/tp-libvirt PRs "
        "4617, 4538)"
    ),
    fix=(
        "reissue the destination's server certificate with the URI host and the advertised name (and their "
        "addresses) as subject alternative names"
    ),
)
def server_names(pair: Pair) -> Outcome:
    problems, evidence, fixes = [], [], []
    for use in uses_or_skip(pair):
        path = path_of(pair, "dst", use.group, "server_cert")
        missing = file_problem(pair.dst, use.group, "server_cert")
        if missing:
            problems.append(f"{pair.dst_label} has no {use.what} server certificate: {missing}")
            evidence.append(Evidence(pair.dst_label, f"{use.what} server certificate", missing, path))
            continue
        cert = certificates(pair.dst, use.group, "server_cert")[0]
        names = [*cert.dns_names, *cert.ip_addresses] or [f"CN={cert.common_name}"]
        evidence.append(Evidence(pair.dst_label, f"{path} names ({use.why})", names, use.server_name))
        if not covers(cert, use.server_name):
            problems.append(
                f"{pair.dst_label}:{path} does not name {use.server_name} ({use.why}): the source will refuse it "
                f"('{use.refusal}')"
            )
            kind = "IP" if is_address(use.server_name.strip("[]")) else "DNS"
            fixes.append(f"{pair.dst_label}:{path}: reissue with subjectAltName {kind}:{use.server_name} added")
    if problems:
        return failed(
            "; ".join(problems),
            *evidence,
            remediation="; ".join(fixes or [f"{pair.dst_label}: install the server certificates named"]),
        )
    return passed(f"{pair.dst_label}'s server certificates name what the source connects to", *evidence)


def judged_files(pair: Pair, uses: list[TlsUse]) -> list[tuple[str, str, str, str]]:
    """(host label, side, group, role) of every certificate the migration's TLS relies on."""
    files = []
    for use in uses:
        files += [("dst", use.group, "server_cert"), ("src", use.group, "ca")]
        if use.verifies_client:
            files += [("src", use.group, "client_cert"), ("dst", use.group, "ca")]
    unique = list(dict.fromkeys(files))
    return [(pair.src_label if side == "src" else pair.dst_label, side, group, role) for side, group, role in unique]


@registry.check(
    "tls.validity",
    f"Every certificate the migration's TLS relies on is valid, and for more than {EXPIRY_WARNING_DAYS} days",
    "high",
    needs=TLS_FACTS,
    description=(
        "a certificate the migration's TLS relies on (server, client, CA, on both hosts, libvirt's and "
        "QEMU's) has expired or is not yet valid; warns within 30 days, with the days left, judged at the "
        "time the facts were collected"
    ),
    rationale=(
        "An expired certificate stops every TLS migration at once with `Failed to verify peer's certificate`, "
        "typically discovered in the maintenance window it was meant for (autotest/tp-libvirt PRs 4617, "
        "4538)"
    ),
    fix="renew the certificates named, signed by the same CA, and restart libvirtd on that host",
)
def validity(pair: Pair) -> Outcome:
    expired, expiring, evidence = [], [], []
    for label, side, group, role in judged_files(pair, uses_or_skip(pair)):
        facts = pair.src if side == "src" else pair.dst
        if file_problem(facts, group, role):
            continue  # tls.chain names missing files
        now = collected_at(facts)
        path = path_of(pair, side, group, role)
        for cert in certificates(facts, group, role):
            days = (cert.not_after - now).total_seconds() / 86400
            where = f"{label}:{path} ({cert.subject})"
            evidence.append(Evidence(label, f"{path} {cert.subject} valid until", until(cert), f"after {now:%Y-%m-%d}"))
            if now < cert.not_before:
                expired.append(f"{where} is not valid before {cert.not_before:%Y-%m-%d %H:%M} UTC")
            elif days < 0:
                expired.append(f"{where} expired {-days:.0f} days ago ({until(cert)})")
            elif days < EXPIRY_WARNING_DAYS:
                expiring.append(f"{where} expires in {days:.0f} days ({until(cert)})")
    if expired:
        return failed(
            "; ".join(expired + expiring),
            *evidence,
            remediation="renew the certificates named, signed by the same CA, and restart libvirtd on that host",
        )
    if expiring:
        return warned("; ".join(expiring), *evidence, remediation="renew the certificates named before they expire")
    return passed(f"{len(evidence)} certificates valid for more than {EXPIRY_WARNING_DAYS} days", *evidence)


def until(cert: Certificate) -> str:
    return f"{cert.not_after:%Y-%m-%d %H:%M} UTC"


def chain_problem(
    pair: Pair, use: TlsUse, leaf_side: str, role: str, purpose: str
) -> tuple[str | None, Evidence | None]:
    """Does LEAF_SIDE's certificate verify against the other side's CA, for PURPOSE?"""
    leaf_facts, ca_facts = (pair.src, pair.dst) if leaf_side == "src" else (pair.dst, pair.src)
    leaf_label, ca_label = (pair.src_label, pair.dst_label) if leaf_side == "src" else (pair.dst_label, pair.src_label)
    ca_side = "dst" if leaf_side == "src" else "src"
    for label, facts, side, file_role in (
        (leaf_label, leaf_facts, leaf_side, role),
        (ca_label, ca_facts, ca_side, "ca"),
    ):
        missing = file_problem(facts, use.group, file_role)
        if missing:
            return f"{label} lacks its {use.what} {file_role.replace('_', ' ')}: {missing}", Evidence(
                label, f"{use.what} {file_role.replace('_', ' ')}", missing, path_of(pair, side, use.group, file_role)
            )
    key = tls_file(leaf_facts, use.group, role.replace("_cert", "_key")) or {}
    if not key.get("exists", True):
        return f"{leaf_label} has its {use.what} {role.replace('_', ' ')} but not its key {key['path']}", Evidence(
            leaf_label, f"{use.what} {role.replace('_cert', ' key')}", "missing", key["path"]
        )
    leaf = certificates(leaf_facts, use.group, role)[0]
    ca_path = path_of(pair, ca_side, use.group, "ca")
    chain = issued_by(leaf, certificates(ca_facts, use.group, "ca"))
    item = f"{path_of(pair, leaf_side, use.group, role)} against {ca_label}:{ca_path}"
    if chain is None:
        return (
            f"{leaf_label}'s {use.what} {role.replace('_', ' ')} ({leaf.subject}, issued by {leaf.issuer}) does not "
            f"verify against {ca_label}:{ca_path}",
            Evidence(
                leaf_label, item, f"issuer {leaf.issuer}", [c.subject for c in certificates(ca_facts, use.group, "ca")]
            ),
        )
    if leaf.purposes is not None and purpose not in leaf.purposes:
        return (
            f"{leaf_label}'s {use.what} {role.replace('_', ' ')} is not for {purpose} (extended key usage {', '.join(leaf.purposes)})",
            Evidence(leaf_label, f"{item}: extended key usage", list(leaf.purposes), purpose),
        )
    return None, Evidence(leaf_label, item, " <- ".join(chain), "a chain to that CA")


@registry.check(
    "tls.chain",
    "The destination's server certificate verifies against the source's CA, and the source's client certificate against the destination's",
    "critical",
    needs=TLS_FACTS,
    description=(
        "the destination's server certificate does not verify against the source's CA, or the source's client "
        "certificate against the destination's (unless the destination does not verify clients), a "
        "certificate or its key is missing, or the extended key usage is not for server or client "
        "authentication"
    ),
    rationale=(
        "Each side verifies the other: a certificate from another CA or without the right key usage fails the "
        "handshake with `Failed to verify peer's certificate` (autotest/tp-libvirt PRs 4617, 4538)"
    ),
    fix=(
        "install on each host a certificate signed by a CA both hosts trust (the same cacert.pem), with "
        "server and client authentication in its extended key usage"
    ),
)
def chain(pair: Pair) -> Outcome:
    problems, evidence = [], []
    for use in uses_or_skip(pair):
        legs = [("dst", "server_cert", "serverAuth")]
        if use.verifies_client:
            legs.append(("src", "client_cert", "clientAuth"))
        for side, role, purpose in legs:
            problem, proof = chain_problem(pair, use, side, role, purpose)
            evidence += [proof] if proof else []
            problems += [problem] if problem else []
    if problems:
        return failed(
            "; ".join(problems),
            *evidence,
            remediation="install each host's certificate signed by a CA both hosts trust (the same cacert.pem on "
            "both), client and server certificates at the paths named",
        )
    return passed("server and client certificates verify against the peer's CA both ways", *evidence)


@registry.check(
    "tls.migration-config",
    "Both hosts agree on migrate_tls_force and migrate_tls_x509_verify in qemu.conf",
    "medium",
    needs=("src.config.qemu_conf", "dst.config.qemu_conf"),
    description=(
        "one host forces TLS on migrations (`migrate_tls_force`) and the other does not; warns when a host "
        "accepts TLS migration streams without verifying the client (`migrate_tls_x509_verify = 0`)"
    ),
    rationale=(
        "A host that forces TLS refuses a plain migration with `allows migration only with VIR_MIGRATE_TLS "
        "flag`, and an unverified TLS stream lets any host with a certificate from the CA push guest memory "
        "there"
    ),
    fix="set `migrate_tls_force` the same on both hosts (or pass --tls), and `migrate_tls_x509_verify = 1`",
)
def migration_config(pair: Pair) -> Outcome:
    def force(facts: dict[str, object]) -> int:
        return int(str(config_values(facts, "qemu_conf").get("migrate_tls_force", 0)))

    forced = {pair.src_label: force(pair.src), pair.dst_label: force(pair.dst)}
    verify = {pair.src_label: verify_setting(pair.src), pair.dst_label: verify_setting(pair.dst)}
    evidence = [Evidence(label, "qemu.conf migrate_tls_force", value) for label, value in forced.items()]
    evidence += [
        Evidence(label, "qemu.conf migrate_tls_x509_verify (resolved)", value, 1) for label, value in verify.items()
    ]
    if len(set(forced.values())) > 1:
        strict = next(label for label, value in forced.items() if value)
        lax = next(label for label, value in forced.items() if not value)
        path = (((pair.src if lax == pair.src_label else pair.dst).get("config") or {}).get("qemu_conf") or {}).get(
            "path", "/etc/libvirt/qemu.conf"
        )
        return failed(
            f"{strict} forces TLS on migrations (migrate_tls_force = 1), {lax} does not: a migration between them "
            f"without --tls is refused by {strict} ('this libvirtd instance allows migration only with VIR_MIGRATE_TLS flag')",
            *evidence,
            remediation=f"{lax}:{path}: migrate_tls_force = 1 (and the TLS files tls.chain asks for), or pass --tls",
        )
    lax_verify = [label for label, value in verify.items() if value == 0]
    if lax_verify:
        return warned(
            f"{', '.join(lax_verify)} accept{'s' if len(lax_verify) == 1 else ''} TLS migration streams from any client "
            "(migrate_tls_x509_verify = 0): the certificate proves nothing about the sender",
            *evidence,
            remediation="; ".join(
                f"{label}:/etc/libvirt/qemu.conf: migrate_tls_x509_verify = 1" for label in lax_verify
            ),
        )
    state = "forced on both hosts" if any(forced.values()) else "optional on both hosts (--tls asks for it)"
    return passed(f"TLS for migrations is {state}; both verify the client's certificate", *evidence)
