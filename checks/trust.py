"""The connection a peer-to-peer migration starts with: the source's libvirtd opening the
destination's URI as its own account. The source tried it on its far side (migdoctor.farside.peer);
this judges the words ssh, TLS or libvirt answered with, and names the fix on the host that needs it."""

from __future__ import annotations

import re
from typing import Any

from migdoctor.checkapi import Evidence, Outcome, Registry, Skip, failed, passed, warned
from migdoctor.judging.pair import Pair

registry = Registry(order=120)
OFFENDING = re.compile(r"Offending \S+ key in (\S+):(\d+)")
# libvirt's client log line: "2026-11-27 10:26:59.721+0000: 25640: warning : someFunction:1086 : reason"
LIBVIRT_LOG = re.compile(r": (?:warning|error) : \w+:\d+ : (.*)")
# (pattern in the output, what it means, remediation template); first match wins.
SSH_FAULTS = (
    (
        "REMOTE HOST IDENTIFICATION HAS CHANGED",
        "{src}'s {account} known_hosts holds another key for {host} (a reinstalled or replaced destination)",
        "{src}: as {account}: ssh-keygen -R {host} -f {known_hosts}; then compare {dst}'s "
        "`ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub` with `ssh-keyscan {host} | ssh-keygen -lf -` and append "
        "the matching `ssh-keyscan {host}` line to {known_hosts}",
    ),
    (
        "Host key verification failed",
        "{src}'s {account} known_hosts has no key for {host}, the exact name the URI uses",
        "{src}: as {account}: compare {dst}'s `ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub` with "
        "`ssh-keyscan {host} | ssh-keygen -lf -`, then append the `ssh-keyscan {host}` line to ~{account}/.ssh/known_hosts "
        "(or use a name known_hosts already has in the URI)",
    ),
    (
        "Permission denied",
        "{dst} refused {src}'s {account} keys",
        "{dst}: add {src}'s {account} public key (~{account}/.ssh/id_*.pub) to the authorized_keys of the URI's user",
    ),
    (
        "Could not resolve hostname",
        "{src} cannot resolve {host}",
        "see the dns.* findings: {host} must resolve on {src}",
    ),
    (
        "no libvirt socket",
        "ssh reached {dst}, but no libvirt daemon socket is there",
        "{dst}: start libvirtd (or virtqemud)",
    ),
)
TLS_FAULTS = (
    ("owner does not match the hostname", "the server certificate does not name {host}", "see tls.server-names"),
    ("Cannot read", "{src} lacks a file libvirt's TLS client reads", "{src}: install it (see tls.chain)"),
    ("Unable to import", "{src} has a file libvirt's TLS client cannot parse", "{src}: replace it (see tls.chain)"),
    ("expired", "a certificate has expired", "see tls.validity"),
    ("CA certificate", "the CA certificate libvirt needs is missing or unreadable", "see tls.chain"),
    ("certificate", "the certificates do not verify", "see tls.chain and tls.validity"),
)
# ssh's lines that say most, best first (its banner of @ lines says least).
SSH_VERDICTS = ("Host key for", "Permission denied", "Could not resolve", "Host key verification failed")
CONNECT_FAULTS = ("Connection refused", "timed out", "No route to host", "no answer within")


# What a peer connection that was tried records (facts schema: all but uri optional, since one
# that could not be tried holds only uri and error).
TRIED = ("host", "account", "ran_as", "daemon_found", "method", "argv", "ok", "seconds")


def words(record: dict[str, Any]) -> str:
    """The line that says most: libvirt's error with the reason it logged, ssh's verdict, else the last."""
    output = [line for line in record.get("output") or [] if not set(line) <= {"@"}]
    reasons = [match.group(1) for line in output if (match := LIBVIRT_LOG.search(line))]
    for line in output:
        if line.startswith("error:") and "failed to connect to the hypervisor" not in line:
            return line.removeprefix("error: ") + "".join(f" ({reason})" for reason in reasons)
    for verdict in SSH_VERDICTS:
        for line in output:
            if verdict in line:
                return line
    return output[-1] if output else "no output"


def diagnosis(record: dict[str, Any], pair: Pair) -> tuple[str, str]:
    text = "\n".join(record.get("output") or [])
    offending = OFFENDING.search(text)
    values = {
        "src": pair.src_label,
        "dst": pair.dst_label,
        "host": record["host"],
        "account": record["account"],
        "known_hosts": offending.group(1) if offending else f"~{record['account']}/.ssh/known_hosts",
    }
    if any(fault in text for fault in CONNECT_FAULTS):
        return f"{pair.src_label} cannot connect to {record['host']}", (
            "see the listen.libvirt-remote and firewall.libvirt-ports findings"
        )
    faults = SSH_FAULTS if record["method"] == "ssh" else TLS_FAULTS
    for key, meaning, fix in faults:
        if key in text:
            where = (
                f" (line {offending.group(2)} of {offending.group(1)})" if offending and faults is SSH_FAULTS else ""
            )
            return meaning.format(**values) + where, fix.format(**values)
    return (
        f"{pair.src_label} could not open {record['uri']}",
        f"{pair.src_label}: as {record['account']}: virsh -c {record['uri']} hostname",
    )


@registry.check(
    "trust.peer-connection",
    "The source's libvirtd account opens the destination's URI: known host key, accepted keys or certificates",
    "critical",
    description=(
        "the source, as the account its libvirtd runs as, cannot open the destination's URI the way a "
        "peer-to-peer migration does: qemu+ssh with the system ssh in batch mode to exactly the URI's host, "
        "qemu+tls or qemu+tcp with `virsh -c URI`; names the stale known_hosts line, the missing alias, the "
        "refused key or the certificate fault and the fix on the host that needs it"
    ),
    rationale=(
        "The migration runs as libvirtd's account, not the admin's: a reinstalled host or a new alias gives "
        "`Host key verification failed` or `REMOTE HOST IDENTIFICATION HAS CHANGED` only when migrating, "
        "often on the way back (canonical/hotsos 268; kimchi-project/kimchi 1065; ganeti 72)"
    ),
    fix=(
        "as the account libvirtd runs as on the source: refresh the known_hosts entry for exactly the URI's "
        "host, authorise its key on the destination, or fix the certificate the finding names"
    ),
)
def peer_connection(pair: Pair) -> Outcome:
    record = pair.src.get("peer_connection")
    if record is None:
        raise Skip("peer connection not tried (saved facts, or --no-probe)")
    if record.get("error"):
        raise Skip(f"peer connection not tried: {record['error']}")
    lacking = [key for key in TRIED if key not in record]
    if lacking:
        return warned(
            f"{pair.src_label}'s peer connection record lacks {', '.join(lacking)}: whether its libvirtd "
            "account opens the destination's URI cannot be told",
            Evidence(pair.src_label, f"peer_connection.{lacking[0]}", "absent", "present"),
            remediation=f"collect {pair.src_label}'s facts again with this migdoctor (migdoctor check, not saved facts)",
        )
    if pair.intent.dst_libvirt_uri and record["uri"] != pair.intent.dst_libvirt_uri:
        raise Skip(f"the saved peer connection opened {record['uri']}, not {pair.intent.dst_libvirt_uri}")
    if record["ok"] is None:
        raise Skip(f"{record['uri']} is not a remote URI")
    command = " ".join(record["argv"]) or record["method"]
    evidence = [
        Evidence(pair.src_label, f"{record['method']} as {record['ran_as']}: {command}", words(record), "connected"),
    ]
    if not record["daemon_found"]:
        evidence.append(Evidence(pair.src_label, "libvirt daemon account", "no libvirt daemon running", "libvirtd"))
    if not record["ok"]:
        meaning, fix = diagnosis(record, pair)
        return failed(
            f"{pair.src_label}'s libvirtd ({record['account']}) cannot open {record['uri']}: {meaning}: {words(record)}",
            *evidence,
            remediation=fix,
        )
    if record["ran_as"] != record["account"]:
        return warned(
            f"{record['uri']} opened as {record['ran_as']}, but {pair.src_label}'s libvirtd runs as {record['account']}: "
            "its known_hosts, keys and certificates were not the ones tried",
            *evidence,
            remediation=f"run migdoctor on {pair.src_label} as root (or as {record['account']})",
        )
    return passed(
        f"{pair.src_label}'s libvirtd account {record['account']} opened {record['uri']} "
        f"({record['method']}, {record['seconds']:.2f} s): {words(record)}",
        *evidence,
    )
