"""listen.*: where hostb takes incoming migrations (qemu.conf migration_address) and where the
source's libvirt connection arrives (sshd on 22 for the lab's qemu+ssh URI, libvirtd on 16509)."""

import pytest

from migdoctor.checkapi import Status

ADDRESS_FIX = 'hostb:/etc/libvirt/qemu.conf: migration_address = "198.51.100.2"'


def migration_address(value):
    return lambda dst: dst["config"]["qemu_conf"]["values"].update(migration_address=value)


def without_listeners_on(port, **libvirtd_conf):
    def mutate(dst):
        dst["listeners"] = [item for item in dst["listeners"] if item["port"] != port]
        dst["config"]["libvirtd_conf"]["values"].update(libvirtd_conf)

    return mutate


def test_migration_address_on_the_migration_link_passes(make_pair, judge):
    finding = judge("listen.migration-address", make_pair())

    assert (finding.status, finding.summary) == (
        Status.PASS,
        "hostb binds incoming migrations to 198.51.100.2 on b-fast",
    )


def test_unset_migration_address_warns(make_pair, judge):
    """The seed capture: qemu.conf has no migration_address."""
    finding = judge("listen.migration-address", make_pair("seed"))

    assert finding.status == Status.WARN
    assert finding.summary.startswith("hostb's qemu.conf leaves migration_address unset/wildcard")
    assert [(e.host, e.actual, e.expected) for e in finding.evidence] == [
        ("hostb", "(unset: 0.0.0.0)", ["198.51.100.2"])
    ]
    assert finding.remediation == ADDRESS_FIX


@pytest.mark.parametrize("wildcard", ["0.0.0.0", "::", "[::]"])
def test_wildcard_migration_address_warns(make_pair, judge, wildcard):
    finding = judge("listen.migration-address", make_pair(dst=migration_address(wildcard)))

    assert finding.status == Status.WARN
    assert finding.evidence[0].actual == wildcard.strip("[]")
    assert finding.remediation == ADDRESS_FIX


def test_migration_address_not_assigned_fails(make_pair, judge):
    finding = judge("listen.migration-address", make_pair(dst=migration_address("198.51.100.20")))

    assert finding.status == Status.FAIL
    assert finding.summary == (
        "hostb's migration_address 198.51.100.20 is not assigned on hostb: incoming migrations will fail to bind"
    )
    assert (finding.evidence[0].actual, finding.evidence[0].expected) == ("198.51.100.20", ["198.51.100.2"])
    assert finding.remediation == ADDRESS_FIX


def test_migration_address_off_the_migration_network_fails(make_pair, judge):
    finding = judge("listen.migration-address", make_pair(dst=migration_address("192.0.2.2")))

    assert finding.status == Status.FAIL
    assert finding.summary == "hostb's migration_address 192.0.2.2 (b-lan) is off the migration network 198.51.100.0/24"
    assert finding.remediation == ADDRESS_FIX


def test_libvirt_over_ssh_passes_on_sshd(make_pair, judge):
    finding = judge("listen.libvirt-remote", make_pair())

    assert (finding.status, finding.summary) == (Status.PASS, "hostb listens for ssh on 0.0.0.0:22 (sshd)")


def test_libvirt_tcp_uri_with_libvirtd_listening_passes(make_pair, judge):
    finding = judge("listen.libvirt-remote", make_pair(dst_libvirt_uri="qemu+tcp://hostb/system"))

    assert finding.status == Status.PASS
    assert finding.summary == "hostb listens for tcp on 0.0.0.0:16509 (libvirtd), [::]:16509 (libvirtd)"


@pytest.mark.parametrize(
    ("uri", "port", "key"),
    [("qemu+tcp://hostb/system", 16509, "listen_tcp"), ("qemu://hostb/system", 16514, "listen_tls")],
    ids=["tcp", "tls"],
)
def test_libvirt_uri_with_nothing_listening_fails_naming_libvirtd_conf(make_pair, judge, uri, port, key):
    pair = make_pair(dst=without_listeners_on(port, listen_tcp=0), dst_libvirt_uri=uri)

    finding = judge("listen.libvirt-remote", pair)

    assert finding.status == Status.FAIL
    assert finding.summary == f"nothing listens on hostb:{port} (192.0.2.2), where {uri} connects"
    assert [(e.host, e.item, e.actual) for e in finding.evidence] == [
        ("hostb", f"TCP listeners on port {port}", []),
        ("hostb", "libvirtd.conf listen_tcp/listen_tls", {"listen_tcp": 0, "listen_tls": 0}),
    ]
    assert finding.remediation.startswith(
        f"hostb:/etc/libvirt/libvirtd.conf: {key} = 1, and start libvirtd with --listen"
    )


def test_libvirtd_listening_on_loopback_only_fails(make_pair, judge):
    """listen_addr = "127.0.0.1": libvirtd listens, but no other host can reach it."""

    def loopback_only(dst):
        dst["listeners"] = [item for item in dst["listeners"] if item["port"] != 16509] + [
            {"address": "127.0.0.1", "family": "inet", "port": 16509, "process": {"name": "libvirtd", "pid": 31786}}
        ]

    finding = judge("listen.libvirt-remote", make_pair(dst=loopback_only, dst_libvirt_uri="qemu+tcp://hostb/system"))

    assert finding.status == Status.FAIL
    assert finding.evidence[0].actual == ["127.0.0.1:16509"]


def test_ssh_uri_without_sshd_fails(make_pair, judge):
    finding = judge("listen.libvirt-remote", make_pair(dst=without_listeners_on(22)))

    assert finding.status == Status.FAIL
    assert finding.summary.startswith("nothing listens on hostb:22, where qemu+ssh://root@hostb/system")
    assert finding.remediation == "hostb: start sshd (port 22)"


@pytest.mark.parametrize(
    ("uri", "summary"),
    [
        (None, "no libvirt URI for hostb (set libvirt_uri in the inventory)"),
        ("qemu:///system", "libvirt URI qemu:///system is local (unix); no remote listener to check"),
    ],
)
def test_libvirt_remote_without_a_remote_uri_is_skipped(make_pair, judge, uri, summary):
    finding = judge("listen.libvirt-remote", make_pair(dst_libvirt_uri=uri))

    assert (finding.status, finding.summary) == (Status.SKIP, summary)


def test_listener_bound_to_another_address_fails(make_pair, judge):
    """libvirtd listening on the management address only, while the URI's name resolves to the LAN."""

    def management_only(dst):
        dst["listeners"] = [item for item in dst["listeners"] if item["port"] != 16509] + [
            {"family": "inet", "address": "203.0.113.2", "port": 16509, "process": {"pid": 1, "name": "libvirtd"}}
        ]

    pair = make_pair(dst=management_only, dst_libvirt_uri="qemu+tcp://hostb/system")
    finding = judge("listen.libvirt-remote", pair)

    assert finding.status == "fail"
    assert finding.summary == "nothing listens on hostb:16509 (192.0.2.2), where qemu+tcp://hostb/system connects"
    assert finding.evidence[0].actual == ["203.0.113.2:16509"]


@pytest.mark.parametrize(
    ("listeners", "status"),
    [([("0.0.0.0", 16509), ("::", 16509)], Status.PASS), ([("0.0.0.0", 16509)], Status.FAIL)],
    ids=["dual-stack-wildcard", "ipv4-wildcard-only"],
)
def test_ipv6_literal_uri_needs_a_listener_that_takes_ipv6(make_pair, judge, listeners, status):
    """ipv6 capture: a URI to hostb's IPv6 address arrives at [::]:16509; a socket on 0.0.0.0 takes no IPv6."""

    def only(dst):
        dst["listeners"] = [
            {
                "family": "inet6" if ":" in a else "inet",
                "address": a,
                "port": p,
                "process": {"pid": 1, "name": "libvirtd"},
            }
            for a, p in listeners
        ]

    uri = "qemu+tcp://[2001:db8:0:100::2]/system"
    finding = judge("listen.libvirt-remote", make_pair("ipv6", dst=only, dst_libvirt_uri=uri))

    assert finding.status == status
    if status == Status.FAIL:
        assert finding.summary == f"nothing listens on hostb:16509 (2001:db8:0:100::2), where {uri} connects"
        assert finding.evidence[0].actual == ["0.0.0.0:16509"]


def test_a_listener_bound_to_what_is_no_address_is_a_warning_naming_it(make_pair, judge):
    def malformed(dst):
        for item in dst["listeners"]:
            if item["port"] == 16509:
                item["address"] = "[/]"

    finding = judge("listen.libvirt-remote", make_pair(dst=malformed, dst_libvirt_uri="qemu+tcp://hostb/system"))

    assert finding.status == Status.WARN
    assert finding.summary.startswith("hostb's listener on port 16509 is bound to '[/]', not an address")
    assert finding.evidence[0].actual == "[/]"


def test_a_looked_up_address_that_is_no_address_is_left_out(make_pair, judge):
    def malformed(src):
        for lookup in src["resolution"]["lookups"]:
            lookup["getaddrinfo"]["addresses"] = ["[/]", *lookup["getaddrinfo"]["addresses"]]

    finding = judge(
        "listen.libvirt-remote", make_pair(src=malformed, dst_libvirt_uri="qemu+tcp://hostb-fast.lab.test/system")
    )

    assert finding.status == Status.PASS
