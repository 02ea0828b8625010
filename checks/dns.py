"""How the name the destination advertises for the migration stream resolves on the source."""

from __future__ import annotations

from typing import Any

from migdoctor.checkapi import Evidence, Outcome, Registry, Skip, failed, passed, warned
from migdoctor.judging.endpoints import dst_migration_addresses
from migdoctor.judging.facts import address_of, advertised_name, family_name, is_address, name_lookup
from migdoctor.judging.fixes import migration_host_fix, qemu_conf_line
from migdoctor.judging.pair import Pair

registry = Registry(order=10)
LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "localhost6", "localhost6.localdomain6"}


def hosts_entries(facts: dict[str, Any], name: str) -> list[dict[str, Any]]:
    """The /etc/hosts lines naming NAME (case-insensitive, as glibc matches)."""
    wanted = name.lower()
    return [
        entry for entry in facts["resolution"].get("hosts_file") or [] if wanted in (n.lower() for n in entry["names"])
    ]


def source_lookup(pair: Pair) -> tuple[str, str, dict[str, Any]]:
    """The advertised name, its origin, and the source's look-up of it (Skip when not collected)."""
    name, origin = advertised_name(pair.dst)
    lookup = name_lookup(pair.src, name)
    if lookup is None:
        raise Skip(f"{pair.src_label}: no look-up of {name!r} in its facts (collect with --resolve {name})")
    return name, origin, lookup


@registry.check(
    "dns.migration-host-resolves",
    "The name the destination advertises resolves on the source",
    "critical",
    needs=("src.resolution", "dst.identity"),
    description=(
        "the name the destination advertises for the migration stream (`migration_host`, else its hostname) "
        "does not resolve on the source; NXDOMAIN, a time-out and no answering server are told apart"
    ),
    rationale=(
        "With `migration_host` unset the destination offers its own hostname, and a source that cannot "
        "resolve it fails the migration with `Unable to resolve address 'newyork' service '49155': Name or "
        "service not known` (RHEL 6 Virtualization Host Configuration Guide B.13; "
        "avocado-framework/avocado-vt PR 1622)"
    ),
    fix=(
        "set `migration_host` in the destination's /etc/libvirt/qemu.conf to its name on the migration "
        "network, and publish that name in DNS (or the source's /etc/hosts)"
    ),
)
def migration_host_resolves(pair: Pair) -> Outcome:
    name, origin = advertised_name(pair.dst)
    if is_address(name):
        return passed(f"{pair.dst_label} advertises the address {name}; nothing to resolve")
    _, _, lookup = source_lookup(pair)
    gai = lookup["getaddrinfo"]
    if gai["addresses"]:
        return passed(f"{name} resolves on {pair.src_label} to {', '.join(gai['addresses'])}")
    dns = lookup.get("dns") or {}
    why = {
        "nxdomain": "DNS says the name does not exist (NXDOMAIN)",
        "timeout": "DNS did not answer in time",
        "no-nameservers": "no DNS server answered",
        "no-resolver-configuration": "no DNS server is configured",
        "no-answer": "DNS has the name but no address record",
    }.get(dns.get("error") or "", "it is in neither /etc/hosts nor DNS")
    return failed(
        f"{name} ({origin} on {pair.dst_label}) does not resolve on {pair.src_label}: {why}",
        Evidence(pair.src_label, f"getaddrinfo({name})", gai["error"], "one or more addresses"),
        Evidence(
            pair.src_label, f"DNS {name} (server {dns.get('server') or 'none'})", dns.get("error"), "A/AAAA records"
        ),
        remediation=migration_host_fix(pair),
    )


@registry.check(
    "dns.migration-host-not-loopback",
    "The advertised name is not localhost and does not resolve to loopback",
    "critical",
    needs=("src.resolution", "dst.identity"),
    description="the advertised name is `localhost` or resolves to loopback on the source (Debian's 127.0.1.1 line)",
    rationale=(
        "A name that maps to loopback points the source's QEMU at itself: libvirt refuses with `hostname on "
        "destination resolved to localhost, but migration requires an FQDN`, Proxmox with `hostname lookup "
        "'<name>' failed - got local IP address` (libvirt src/qemu/qemu_migration.c; autotest/tp-libvirt PR "
        "3903; proxmox pve-common Network.pm)"
    ),
    fix=(
        "set `migration_host` in the destination's qemu.conf, or map its hostname to a real address instead "
        "of 127.0.1.1 in its /etc/hosts"
    ),
)
def migration_host_not_loopback(pair: Pair) -> Outcome:
    name, origin = advertised_name(pair.dst)
    if name.lower() in LOOPBACK_NAMES:
        return failed(
            f"{pair.dst_label} advertises {name!r} ({origin}): the source would migrate to itself",
            Evidence(pair.dst_label, origin, name, "a name of the destination"),
            remediation=migration_host_fix(pair),
        )
    addresses = [name] if is_address(name) else source_lookup(pair)[2]["getaddrinfo"]["addresses"]
    malformed = [address for address in addresses if not is_address(address)]
    if malformed:
        return warned(
            f"{name} resolves on {pair.src_label} to {malformed[0]!r}, not an address: whether it is loopback cannot be told",
            Evidence(pair.src_label, f"getaddrinfo({name})", addresses, "addresses"),
        )
    loopback = [address for address in addresses if address_of(address).is_loopback]
    if not loopback:
        return passed(f"{name} does not resolve to loopback on {pair.src_label}")
    hosts_lines = [entry for entry in hosts_entries(pair.src, name) if entry["address"] in loopback]
    remediation = (
        f"{pair.src_label}:/etc/hosts line {hosts_lines[0]['line']}: remove {name} from the {hosts_lines[0]['address']} line"
        if hosts_lines
        else migration_host_fix(pair)
    )
    return failed(
        f"{name} resolves to loopback {', '.join(loopback)} on {pair.src_label}",
        Evidence(pair.src_label, f"getaddrinfo({name})", addresses, "the destination's migration address"),
        remediation=remediation,
    )


@registry.check(
    "dns.migration-host-address",
    "The advertised name resolves to the destination's address on the migration network",
    "high",
    needs=("src.resolution", "dst.identity", "dst.links"),
    description=(
        "the first address getaddrinfo answers for the advertised name, with the flags QEMU passes "
        "(`AI_ADDRCONFIG | AI_V4MAPPED`), is off the destination's migration network; for a dual-stack name "
        "whose first answer is of the wrong family (AAAA on the LAN sorted before an A on the migration "
        "network) it names the family to fix and the record or /etc/hosts line"
    ),
    rationale=(
        "The silent failure migdoctor exists for: the migration succeeds but streams over the LAN, minutes "
        "instead of seconds, and nothing logs it (the SUSE forums thread 'Setting a specific live migration "
        "channel', 2017: 10G links unused, the bonded 1G LAN carrying every migration; an evacuation that "
        "took about a day, xen-orchestra 2028; OpenNebula/one 1010)"
    ),
    fix=(
        "set `migration_host` in the destination's qemu.conf to its name on the migration network "
        "(`hostb-fast.example.org`), or make the advertised name resolve there first"
    ),
)
def migration_host_address(pair: Pair) -> Outcome:
    network = pair.intent.migration_network
    if network is None:
        raise Skip("no migration network given or inferable (use --migration-network CIDR)")
    name, origin = advertised_name(pair.dst)
    addresses = [name] if is_address(name) else source_lookup(pair)[2]["getaddrinfo"]["addresses"]
    if not addresses:
        raise Skip(f"{name} does not resolve on {pair.src_label} (see dns.migration-host-resolves)")
    expected = dst_migration_addresses(pair)
    if addresses[0] in {address for _, address in expected}:
        return passed(f"{name} resolves to {addresses[0]}, {pair.dst_label}'s address on {network}")
    evidence = Evidence(pair.src_label, f"getaddrinfo({name})", addresses, [address for _, address in expected])
    stale = [entry for entry in hosts_entries(pair.src, name) if entry["address"] == addresses[0]]
    on_network = [address for address in addresses if address in network]
    if on_network and family_name(on_network[0]) != family_name(addresses[0]):
        return wrong_family_first(pair, name, addresses[0], on_network[0], stale, evidence)
    remediation = (
        f"{pair.src_label}:/etc/hosts line {stale[0]['line']}: remove the line for {name}, "
        f"or make it {expected[0][1] if expected else 'the migration address'}"
        if stale
        else migration_host_fix(pair)
    )
    return failed(
        f"{name} ({origin}) resolves on {pair.src_label} to {addresses[0]}, off the migration network {network}: "
        "the stream would not take the migration network",
        evidence,
        remediation=remediation,
    )


def wrong_family_first(
    pair: Pair, name: str, first: str, good: str, stale: list[dict[str, Any]], evidence: Evidence
) -> Outcome:
    """A dual-stack name whose first answer (the family getaddrinfo sorts first) is off the
    migration network while its other family's answer is on it: the first family is the one to fix."""
    family, record = family_name(first), "AAAA" if family_name(first) == "IPv6" else "A"
    same_family = [address for _, address in dst_migration_addresses(pair) if family_name(address) == family]
    target = (
        f"make it {same_family[0]}"
        if same_family
        else f"remove it (no {family} address of {pair.dst_label} is on the migration network)"
    )
    where = (
        f"{pair.src_label}:/etc/hosts line {stale[0]['line']}: the {family} line for {name}"
        if stale
        else f"DNS: the {record} record {name} -> {first}"
    )
    return failed(
        f"{name} is dual-stack: getaddrinfo on {pair.src_label} answers its {family} address {first} first, off the "
        f"migration network {pair.intent.migration_network}, and QEMU connects to the first answer that accepts; its "
        f"{family_name(good)} address {good} is on it. Fix the {family} side",
        evidence,
        remediation=f"{where}: {target}; or {qemu_conf_line(pair, 'migration_host', good)}",
    )


@registry.check(
    "dns.hosts-file-override",
    "The source's /etc/hosts agrees with DNS for the advertised name",
    "medium",
    needs=("src.resolution",),
    description="the source's /etc/hosts answers differently from DNS for the advertised name",
    rationale=(
        "The source's getaddrinfo reads /etc/hosts before DNS: a stale or installer-written line (Debian's "
        "127.0.1.1 entry) decides where the stream goes, and a fix made in DNS alone changes nothing on that "
        "host (proxmox pve-common Network.pm; autotest/tp-libvirt PR 3903)"
    ),
    fix="remove the source's /etc/hosts line for the name, or make it agree with DNS",
)
def hosts_file_override(pair: Pair) -> Outcome:
    name, _ = advertised_name(pair.dst)
    if is_address(name):
        return passed(f"{pair.dst_label} advertises an address; no name to override")
    _, _, lookup = source_lookup(pair)
    from_hosts = lookup.get("hosts_file")
    dns = lookup.get("dns")
    if from_hosts is None or dns is None:
        raise Skip(f"{pair.src_label}: /etc/hosts or DNS answer for {name} not collected")
    if not from_hosts:
        return passed(f"{name} is not in {pair.src_label}'s /etc/hosts")
    lines = [entry["line"] for entry in hosts_entries(pair.src, name)]
    where = f"{pair.src_label}:/etc/hosts line {lines[0] if lines else '?'}"
    evidence = (
        Evidence(pair.src_label, f"/etc/hosts {name}", from_hosts, dns["addresses"] or dns["error"]),
        Evidence(pair.src_label, f"DNS {name}", dns["addresses"] or dns["error"]),
    )
    if not dns["addresses"]:
        return warned(
            f"only {pair.src_label}'s /etc/hosts knows {name} (DNS: {dns['error']})",
            *evidence,
            remediation=f"{where}: keep it in step with the migration address, or publish {name} in DNS",
        )
    if set(from_hosts) == set(dns["addresses"]):
        return passed(f"/etc/hosts and DNS agree on {name}: {', '.join(from_hosts)}")
    return failed(
        f"{where} maps {name} to {', '.join(from_hosts)} but DNS says {', '.join(dns['addresses'])}; /etc/hosts wins",
        *evidence,
        remediation=f"{where}: remove the line for {name}, or make it {dns['addresses'][0]}",
    )


@registry.check(
    "dns.forward-reverse",
    "The migration address's PTR leads back to the advertised name",
    "low",
    needs=("src.resolution",),
    description="the PTR record of the destination's migration address does not lead back to the advertised name",
    rationale=(
        "What authorises or logs by name sees the reverse answer: xend's `xend-relocation-hosts-allow` "
        "matches the source's reverse-resolved name (RHEL 5 Virtualization Guide 19.4), and a name that does "
        "not round-trip makes the path hard to trace in logs"
    ),
    fix="add the PTR record of the migration address, naming the advertised name",
)
def forward_reverse(pair: Pair) -> Outcome:
    name, _ = advertised_name(pair.dst)
    if is_address(name):
        return passed(f"{pair.dst_label} advertises an address; no name to confirm")
    _, _, lookup = source_lookup(pair)
    addresses = lookup["getaddrinfo"]["addresses"]
    if not addresses:
        raise Skip(f"{name} does not resolve on {pair.src_label}")
    reverse = next((item for item in lookup["reverse"] if item["address"] == addresses[0]), None)
    if reverse is None:
        raise Skip(f"{pair.src_label}: no PTR look-up of {addresses[0]} collected")
    names = [n.lower().rstrip(".") for n in reverse["names"]]
    if name.lower().rstrip(".") in names:
        return passed(f"{addresses[0]} has PTR {name}")
    evidence = Evidence(pair.src_label, f"PTR {addresses[0]}", reverse["names"] or reverse["error"], name)
    if reverse["error"] in ("timeout", "no-nameservers"):
        return warned(
            f"cannot tell whether {addresses[0]} leads back to {name}: PTR look-up {reverse['error']}", evidence
        )
    actual = ", ".join(reverse["names"]) or f"missing ({reverse['error']})"
    return failed(
        f"PTR of {addresses[0]} is {actual}, not {name}",
        evidence,
        remediation=f"DNS: add PTR {addresses[0]} -> {name} (reverse zone of {addresses[0]})",
    )
