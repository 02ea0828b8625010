"""How names resolve on this host: what libvirt and QEMU get from getaddrinfo (files and DNS in
nsswitch order), what DNS alone answers and from which server, and the files behind both."""

from __future__ import annotations

import os
import socket
import sys
from collections.abc import Callable
from functools import partial
from typing import Any

from migdoctor.facts.gaps import Gaps, read_text
from migdoctor.facts.waiting import within
from migdoctor.parsers.hosts import hosts_lookup, parse_host_conf, parse_hosts
from migdoctor.parsers.nsswitch import parse_nsswitch_hosts
from migdoctor.parsers.resolv_conf import parse_resolv_conf

HOSTS_FILE = "/etc/hosts"
HOST_CONF = "/etc/host.conf"
RESOLV_CONF = "/etc/resolv.conf"
NSSWITCH_CONF = "/etc/nsswitch.conf"
DNS_LIFETIME_S = 3.0
# A name that has not resolved by then will not: glibc's defaults (5 s per try, 2 tries) give up at
# ~10 s, per search domain. One retry after a lost first packet (5 s) still fits.
LOOKUP_BUDGET_S = 6.0
# QEMU's inet_connect_saddr() asks getaddrinfo with these flags for an outgoing migration.
QEMU_AI_FLAGS = socket.AI_CANONNAME | socket.AI_V4MAPPED | socket.AI_ADDRCONFIG


def getaddrinfo_answer(name: str) -> dict[str, Any]:
    """The addresses QEMU would try, in the order it would try them; no answer within the budget
    counts as the failure it will become."""
    return within(LOOKUP_BUDGET_S, [partial(raw_getaddrinfo, name)], lambda _: unanswered_getaddrinfo())[0]


def unanswered_getaddrinfo() -> dict[str, Any]:
    return {
        "addresses": [],
        "canonical_name": None,
        "error": f"no answer within {LOOKUP_BUDGET_S:g} s (the resolver would go on waiting, then fail)",
        "error_code": socket.EAI_AGAIN,
    }


def raw_getaddrinfo(name: str) -> dict[str, Any]:
    try:
        infos = socket.getaddrinfo(name, None, socket.AF_UNSPEC, socket.SOCK_STREAM, 0, QEMU_AI_FLAGS)
    except socket.gaierror as exc:
        return {"addresses": [], "canonical_name": None, "error": exc.strerror, "error_code": exc.errno}
    addresses: list[str] = []
    for info in infos:
        address = str(info[4][0])
        if address not in addresses:
            addresses.append(address)
    return {"addresses": addresses, "canonical_name": infos[0][3] or None, "error": None, "error_code": None}


def dns_error_kind(exc: Exception) -> str:
    """Say apart the failures an admin fixes differently."""
    import dns.exception
    import dns.resolver

    if isinstance(exc, dns.resolver.NXDOMAIN):
        return "nxdomain"
    if isinstance(exc, dns.resolver.NoAnswer):
        return "no-answer"
    if isinstance(exc, dns.exception.Timeout):
        return "timeout"
    if isinstance(exc, dns.resolver.NoNameservers):
        return "no-nameservers"
    if isinstance(exc, dns.resolver.NoResolverConfiguration):
        return "no-resolver-configuration"
    return "error"


def new_resolver() -> Any:
    """dnspython is imported only when a name is to be resolved: it costs start-up time."""
    try:
        import dns.resolver
    except ImportError:  # the bundle leaves out a dnspython this host's Python cannot run
        raise RuntimeError(
            f"no dnspython for Python {sys.version_info[0]}.{sys.version_info[1]} here: DNS asked through getaddrinfo only"
        ) from None

    resolver = dns.resolver.Resolver()
    resolver.lifetime = min(resolver.lifetime, DNS_LIFETIME_S)
    return resolver


def dns_answer(resolver: Any, name: str) -> dict[str, Any]:
    """A and AAAA records straight from DNS; NXDOMAIN is final, other failures are kept per type."""
    import dns.exception
    import dns.resolver

    addresses: list[str] = []
    servers: list[str] = []
    errors: dict[str, str] = {}
    for rdtype in ("A", "AAAA"):
        try:
            answer = resolver.resolve(name, rdtype, search=True)
        except dns.exception.DNSException as exc:
            errors[rdtype] = dns_error_kind(exc)
            if isinstance(exc, dns.resolver.NXDOMAIN):
                break
            continue
        addresses.extend(record.address for record in answer)
        servers.append(str(answer.nameserver))
    kinds = set(errors.values()) - {"no-answer"}
    error = None if addresses else (sorted(kinds)[0] if kinds else "no-answer")
    return {"addresses": addresses, "server": servers[0] if servers else None, "error": error}


def reverse_answer(resolver: Any, address: str) -> dict[str, Any]:
    import dns.exception
    import dns.reversename

    try:
        answer = resolver.resolve(dns.reversename.from_address(address), "PTR")
    except dns.exception.DNSException as exc:
        return {"address": address, "names": [], "error": dns_error_kind(exc)}
    names = [record.target.to_text(omit_final_dot=True) for record in answer]
    return {"address": address, "names": names, "error": None}


def hosts_multi() -> bool:
    """/etc/host.conf `multi on` makes the files backend return every matching line."""
    if not os.path.exists(HOST_CONF):
        return False
    return parse_host_conf(read_text(HOST_CONF), HOST_CONF)["multi"]


def collect_resolution(names: list[str], reverse: list[str], gaps: Gaps) -> dict[str, Any]:
    hosts_entries = gaps.attempt("hosts_file", lambda: parse_hosts(read_text(HOSTS_FILE), HOSTS_FILE))
    resolv_conf = gaps.attempt("resolv_conf", lambda: parse_resolv_conf(read_text(RESOLV_CONF), RESOLV_CONF))
    nsswitch = gaps.attempt("nsswitch_hosts", lambda: parse_nsswitch_hosts(read_text(NSSWITCH_CONF), NSSWITCH_CONF))
    multi = gaps.attempt("host_conf", hosts_multi)
    resolver = gaps.attempt("dns_resolver", new_resolver) if names or reverse else None
    # Every look-up at once, each bounded: a dead nameserver costs one budget, not one per name.
    forward: list[Callable[[], Any]] = [partial(raw_getaddrinfo, name) for name in names]
    if resolver:
        forward += [partial(dns_answer, resolver, name) for name in names]
        forward += [partial(reverse_answer, resolver, address) for address in reverse]
    answers = within(LOOKUP_BUDGET_S, forward, partial(unanswered, names, reverse))
    lookups = []
    for index, name in enumerate(names):
        lookups.append(
            {
                "name": name,
                "getaddrinfo": answers[index],
                "hosts_file": hosts_lookup(hosts_entries, name, bool(multi)) if hosts_entries is not None else None,
                "dns": answers[len(names) + index] if resolver else None,
            }
        )
    seen = [
        list(dict.fromkeys(lookup["getaddrinfo"]["addresses"] + (lookup["dns"] or {}).get("addresses", [])))
        for lookup in lookups
    ]
    pairs = [(index, address) for index, addresses in enumerate(seen) for address in addresses] if resolver else []
    reversed_ = within(
        DNS_LIFETIME_S + 1,
        [partial(reverse_answer, resolver, address) for _, address in pairs],
        lambda index: unanswered_reverse(pairs[index][1]),
    )
    for lookup in lookups:
        lookup["reverse"] = []
    for (index, _), answer in zip(pairs, reversed_, strict=True):
        lookups[index]["reverse"].append(answer)
    return {
        "hosts_file": hosts_entries,
        "resolv_conf": resolv_conf,
        "nsswitch_hosts": nsswitch,
        "lookups": lookups,
        "reverse_lookups": answers[2 * len(names) :] if resolver else [],
    }


def unanswered(names: list[str], reverse: list[str], index: int) -> dict[str, Any]:
    """What a look-up of collect_resolution's first round says when it did not answer in time."""
    if index < len(names):
        return unanswered_getaddrinfo()
    if index < 2 * len(names):
        return {"addresses": [], "server": None, "error": "timeout"}
    return unanswered_reverse(reverse[index - 2 * len(names)])


def unanswered_reverse(address: str) -> dict[str, Any]:
    return {"address": address, "names": [], "error": "timeout"}
