"""Every discovered check keeps the contract (as sos does for its plugins): stable id, title,
severity, facts it needs, and a pure function that returns an Outcome."""

import inspect

import pytest

from migdoctor.checkapi import ID_PATTERN, SEVERITIES, Check
from migdoctor.engine import discover

CHECKS = discover()
REQUIRED_IDS = {
    "dns.migration-host-resolves",
    "dns.migration-host-not-loopback",
    "dns.migration-host-address",
    "dns.hosts-file-override",
    "dns.forward-reverse",
    "route.egress-interface",
    "route.return-path",
    "link.state",
    "link.speed",
    "link.mtu",
    "link.path-mtu",
    "listen.migration-address",
    "listen.libvirt-remote",
    "config.migration-port-range",
    "firewall.migration-ports",
    "firewall.libvirt-ports",
    "xen.relocation-server",
    "xen.hosts-allow",
    "compat.versions",
    "probe.migration-port",
    "tls.server-names",
    "tls.validity",
    "tls.chain",
    "tls.migration-config",
    "trust.peer-connection",
    "guest.cpu",
    "guest.machine",
    "guest.storage",
    "guest.cache-mode",
    "guest.libvirt-refuses",
    "guest.memory",
    "guest.hugepages",
    "guest.networks",
    "guest.secrets",
}
NEED_ROOTS = {
    "identity",
    "links",
    "routes",
    "route_lookups",
    "resolution",
    "listeners",
    "firewall",
    "config",
    "sysctl",
    "tls",
    "virt",
    "guests",
}


def test_every_required_check_is_there_once() -> None:
    ids = [check.id for check in CHECKS]
    assert set(ids) >= REQUIRED_IDS
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("check", CHECKS, ids=lambda check: check.id)
def test_check_keeps_the_contract(check: Check) -> None:
    assert ID_PATTERN.match(check.id), check.id
    assert check.title and check.title[0].isupper() and not check.title.endswith(".")
    assert check.severity in SEVERITIES
    for need in check.needs:
        side, _, path = need.partition(".")
        if check.scope == "guest" and side in ("guest", "lookups"):
            assert path, need
        else:
            assert side in ("src", "dst") and path.split(".")[0] in NEED_ROOTS, need
    assert list(inspect.signature(check.run).parameters) == (["case"] if check.scope == "guest" else ["pair"])
    if check.origin == "built-in":  # what it verifies and why, for `migdoctor checks` and docs/checks.md
        assert check.description and not check.description.endswith("."), check.id
        assert check.rationale and check.rationale[0].isupper(), check.id
        assert check.fix and not check.fix.endswith("."), check.id
    assert inspect.getdoc(inspect.getmodule(check.run)), "check module explains itself"
