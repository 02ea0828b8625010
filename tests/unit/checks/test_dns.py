"""dns.*: how the name hostb advertises for the migration stream resolves on hosta.

In the healthy capture hostb advertises migration_host hostb-fast.lab.test (198.51.100.2, PTR back
to the name); in the seed capture migration_host is unset and hostb.lab.test resolves to the LAN."""

import pytest

from migdoctor.checkapi import Status
from migdoctor.judging.facts import name_lookup

FAST_NAME, FAST_ADDRESS = "hostb-fast.lab.test", "198.51.100.2"
MIGRATION_HOST_FIX = f'hostb:/etc/libvirt/qemu.conf: migration_host = "{FAST_NAME}"'


def unresolvable(dns_error, gai_error, gai_code):
    """hosta's look-up of the advertised name when getaddrinfo finds nothing and DNS says why."""

    def mutate(src):
        lookup = name_lookup(src, FAST_NAME)
        lookup["getaddrinfo"] = {"addresses": [], "canonical_name": None, "error": gai_error, "error_code": gai_code}
        lookup["dns"] = {"addresses": [], "server": None, "error": dns_error}
        lookup["reverse"] = []

    return mutate


def set_qemu_conf(**values):
    return lambda dst: dst["config"]["qemu_conf"]["values"].update(values)


def hosts_line(address, *names, line=3, lookup_name=FAST_NAME, dns=None):
    """A line appended to hosta's /etc/hosts, and the look-up getaddrinfo then answers from it."""

    def mutate(src):
        src["resolution"]["hosts_file"].append({"address": address, "line": line, "names": list(names), "valid": True})
        lookup = name_lookup(src, lookup_name)
        lookup["hosts_file"] = [address]
        lookup["getaddrinfo"]["addresses"] = [address]
        if dns is not None:
            lookup["dns"] = dns

    return mutate


@pytest.mark.parametrize(
    ("dns_error", "gai_error", "gai_code", "why"),
    [
        ("nxdomain", "Name or service not known", -2, "DNS says the name does not exist (NXDOMAIN)"),
        ("timeout", "Temporary failure in name resolution", -3, "DNS did not answer in time"),
        ("no-nameservers", "Temporary failure in name resolution", -3, "no DNS server answered"),
        ("no-resolver-configuration", "Temporary failure in name resolution", -3, "no DNS server is configured"),
        ("no-answer", "No address associated with hostname", -5, "DNS has the name but no address record"),
    ],
)
def test_unresolvable_name_fails_saying_why(make_pair, judge, dns_error, gai_error, gai_code, why):
    finding = judge("dns.migration-host-resolves", make_pair(src=unresolvable(dns_error, gai_error, gai_code)))

    assert finding.status == Status.FAIL
    assert finding.summary == (
        f"{FAST_NAME} (/etc/libvirt/qemu.conf migration_host on hostb) does not resolve on hosta: {why}"
    )
    gai, dns = finding.evidence
    assert (gai.host, gai.item, gai.actual) == ("hosta", f"getaddrinfo({FAST_NAME})", gai_error)
    assert (dns.host, dns.item, dns.actual) == ("hosta", f"DNS {FAST_NAME} (server none)", dns_error)
    # the fix advertises something that resolves: the migration address, not the same failing name
    assert finding.remediation == f'hostb:/etc/libvirt/qemu.conf: migration_host = "{FAST_ADDRESS}"'


def test_resolving_name_and_advertised_address_pass(make_pair, judge):
    resolved = judge("dns.migration-host-resolves", make_pair())
    literal = judge("dns.migration-host-resolves", make_pair(dst=set_qemu_conf(migration_host=FAST_ADDRESS)))

    assert (resolved.status, resolved.summary) == (Status.PASS, f"{FAST_NAME} resolves on hosta to {FAST_ADDRESS}")
    assert (literal.status, literal.summary) == (
        Status.PASS,
        f"hostb advertises the address {FAST_ADDRESS}; nothing to resolve",
    )


def test_name_never_looked_up_on_the_source_is_skipped(make_pair, judge):
    finding = judge("dns.migration-host-resolves", make_pair(dst=set_qemu_conf(migration_host="hostb-mig.lab.test")))

    assert finding.status == Status.SKIP
    assert finding.summary == (
        "hosta: no look-up of 'hostb-mig.lab.test' in its facts (collect with --resolve hostb-mig.lab.test)"
    )


@pytest.mark.parametrize("name", ["localhost", "LOCALHOST.localdomain"])
def test_localhost_as_migration_host_fails(make_pair, judge, name):
    finding = judge("dns.migration-host-not-loopback", make_pair(dst=set_qemu_conf(migration_host=name)))

    assert finding.status == Status.FAIL
    assert finding.summary == (
        f"hostb advertises {name!r} (/etc/libvirt/qemu.conf migration_host): the source would migrate to itself"
    )
    assert [(e.host, e.item, e.actual) for e in finding.evidence] == [
        ("hostb", "/etc/libvirt/qemu.conf migration_host", name)
    ]
    assert finding.remediation == MIGRATION_HOST_FIX


def test_debian_127_0_1_1_line_on_the_source_fails_naming_the_line(make_pair, judge):
    """hosta was cloned from hostb's image: Debian's installer line `127.0.1.1 hostb.lab.test hostb`
    came along, so the hostname hostb advertises (seed: no migration_host) is loopback on hosta."""
    pair = make_pair("seed", src=hosts_line("127.0.1.1", "hostb.lab.test", "hostb", lookup_name="hostb.lab.test"))

    loopback = judge("dns.migration-host-not-loopback", pair)
    override = judge("dns.hosts-file-override", pair)

    assert loopback.status == Status.FAIL
    assert loopback.summary == "hostb.lab.test resolves to loopback 127.0.1.1 on hosta"
    assert loopback.evidence[0].actual == ["127.0.1.1"]
    assert loopback.remediation == "hosta:/etc/hosts line 3: remove hostb.lab.test from the 127.0.1.1 line"
    assert override.status == Status.FAIL
    assert "hosta:/etc/hosts line 3 maps hostb.lab.test to 127.0.1.1 but DNS says 192.0.2.2" in override.summary


def test_name_resolving_off_the_migration_network_fails(make_pair, judge):
    """The seed capture as the lab made it: hostb.lab.test is 192.0.2.2, on the LAN."""
    finding = judge("dns.migration-host-address", make_pair("seed"))

    assert finding.status == Status.FAIL
    assert finding.summary.startswith(
        "hostb.lab.test (hostname (migration_host unset)) resolves on hosta to 192.0.2.2, "
        "off the migration network 198.51.100.0/24"
    )
    assert (finding.evidence[0].actual, finding.evidence[0].expected) == (["192.0.2.2"], [FAST_ADDRESS])
    assert finding.remediation == MIGRATION_HOST_FIX


@pytest.mark.parametrize(
    ("migration_host", "status", "summary"),
    [
        (FAST_ADDRESS, Status.PASS, f"{FAST_ADDRESS} resolves to {FAST_ADDRESS}, hostb's address on 198.51.100.0/24"),
        (FAST_NAME, Status.PASS, f"{FAST_NAME} resolves to {FAST_ADDRESS}, hostb's address on 198.51.100.0/24"),
        (
            "192.0.2.2",
            Status.FAIL,
            "192.0.2.2 (/etc/libvirt/qemu.conf migration_host) resolves on hosta to 192.0.2.2, "
            "off the migration network 198.51.100.0/24: the stream would not take the migration network",
        ),
    ],
    ids=["address", "name", "lan-address"],
)
def test_migration_host_address_judges_names_and_literal_addresses(make_pair, judge, migration_host, status, summary):
    finding = judge("dns.migration-host-address", make_pair(dst=set_qemu_conf(migration_host=migration_host)))

    assert (finding.status, finding.summary) == (status, summary)


def test_migration_host_address_skips_what_does_not_resolve_or_has_no_network(make_pair, judge):
    unresolved = judge(
        "dns.migration-host-address", make_pair(src=unresolvable("nxdomain", "Name or service not known", -2))
    )
    no_network = judge("dns.migration-host-address", make_pair(network=None))

    assert unresolved.status == no_network.status == Status.SKIP
    assert unresolved.summary == f"{FAST_NAME} does not resolve on hosta (see dns.migration-host-resolves)"
    assert "--migration-network" in no_network.summary


def test_stale_hosts_line_overriding_dns_fails_naming_line_and_both_values(make_pair, judge):
    pair = make_pair(src=hosts_line("192.0.2.2", FAST_NAME, line=7))

    override = judge("dns.hosts-file-override", pair)
    address = judge("dns.migration-host-address", pair)

    assert override.status == Status.FAIL
    assert override.summary == (
        f"hosta:/etc/hosts line 7 maps {FAST_NAME} to 192.0.2.2 but DNS says {FAST_ADDRESS}; /etc/hosts wins"
    )
    assert (override.evidence[0].host, override.evidence[0].actual) == ("hosta", ["192.0.2.2"])
    assert (
        override.remediation == f"hosta:/etc/hosts line 7: remove the line for {FAST_NAME}, or make it {FAST_ADDRESS}"
    )
    assert address.status == Status.FAIL  # and the stream would take the LAN


def test_name_only_in_hosts_file_warns(make_pair, judge):
    nxdomain = {"addresses": [], "server": None, "error": "nxdomain"}
    finding = judge("dns.hosts-file-override", make_pair(src=hosts_line(FAST_ADDRESS, FAST_NAME, dns=nxdomain)))

    assert finding.status == Status.WARN
    assert finding.summary == f"only hosta's /etc/hosts knows {FAST_NAME} (DNS: nxdomain)"
    assert finding.remediation.startswith("hosta:/etc/hosts line 3: keep it in step with the migration address")


@pytest.mark.parametrize(
    ("mutation", "summary"),
    [
        (None, f"{FAST_NAME} is not in hosta's /etc/hosts"),
        (hosts_line(FAST_ADDRESS, FAST_NAME), f"/etc/hosts and DNS agree on {FAST_NAME}: {FAST_ADDRESS}"),
    ],
)
def test_hosts_file_absent_or_agreeing_passes(make_pair, judge, mutation, summary):
    finding = judge("dns.hosts-file-override", make_pair(src=mutation))

    assert (finding.status, finding.summary) == (Status.PASS, summary)


def ptr(names, error=None):
    def mutate(src):
        name_lookup(src, FAST_NAME)["reverse"] = [{"address": FAST_ADDRESS, "error": error, "names": names}]

    return mutate


@pytest.mark.parametrize(
    ("mutation", "actual", "shown"),
    [
        (ptr(["mig2.lab.test"]), ["mig2.lab.test"], "mig2.lab.test"),
        (ptr([], error="nxdomain"), "nxdomain", "missing (nxdomain)"),
    ],
    ids=["ptr-mismatch", "ptr-missing"],
)
def test_ptr_not_leading_back_fails(make_pair, judge, mutation, actual, shown):
    finding = judge("dns.forward-reverse", make_pair(src=mutation))

    assert finding.status == Status.FAIL
    assert finding.summary == f"PTR of {FAST_ADDRESS} is {shown}, not {FAST_NAME}"
    assert [(e.host, e.item, e.actual, e.expected) for e in finding.evidence] == [
        ("hosta", f"PTR {FAST_ADDRESS}", actual, FAST_NAME)
    ]
    assert finding.remediation == f"DNS: add PTR {FAST_ADDRESS} -> {FAST_NAME} (reverse zone of {FAST_ADDRESS})"


def test_ptr_matching_with_a_final_dot_and_other_case_passes(make_pair, judge):
    finding = judge("dns.forward-reverse", make_pair(src=ptr(["HOSTB-FAST.lab.test."])))

    assert (finding.status, finding.summary) == (Status.PASS, f"{FAST_ADDRESS} has PTR {FAST_NAME}")


def test_ptr_not_looked_up_is_skipped(make_pair, judge):
    finding = judge("dns.forward-reverse", make_pair(src=lambda src: name_lookup(src, FAST_NAME).update(reverse=[])))

    assert (finding.status, finding.summary) == (Status.SKIP, f"hosta: no PTR look-up of {FAST_ADDRESS} collected")


def test_ptr_that_timed_out_cannot_tell(make_pair, judge):
    finding = judge("dns.forward-reverse", make_pair(src=ptr([], error="timeout")))

    assert finding.status == Status.WARN
    assert finding.summary == f"cannot tell whether {FAST_ADDRESS} leads back to {FAST_NAME}: PTR look-up timeout"


def test_stale_hosts_line_sending_the_stream_off_network_names_the_line(make_pair, judge):
    """When the source's /etc/hosts gives the wrong address, the fix is there, not in qemu.conf."""
    finding = judge("dns.migration-host-address", make_pair(src=hosts_line("192.0.2.2", FAST_NAME, line=3)))

    assert finding.status == Status.FAIL
    assert finding.remediation == f"hosta:/etc/hosts line 3: remove the line for {FAST_NAME}, or make it {FAST_ADDRESS}"


# --- dual stack: captured in the lab's dual-stack-wrong-first, ipv6 and ipv6-literal scenarios ----


def test_dual_stack_name_whose_first_answer_is_off_the_network_names_the_family_to_fix(make_pair, judge):
    finding = judge("dns.migration-host-address", make_pair("dual-stack-wrong-first"))

    assert finding.status is Status.FAIL
    assert finding.summary == (
        "hostb-fast.lab.test is dual-stack: getaddrinfo on hosta answers its IPv6 address 2001:db8:0:2::2 first, "
        "off the migration network 198.51.100.0/24, and QEMU connects to the first answer that accepts; its IPv4 "
        "address 198.51.100.2 is on it. Fix the IPv6 side"
    )
    assert finding.remediation == (
        "DNS: the AAAA record hostb-fast.lab.test -> 2001:db8:0:2::2: remove it (no IPv6 address of hostb is on "
        'the migration network); or hostb:/etc/libvirt/qemu.conf: migration_host = "198.51.100.2"'
    )
    assert finding.evidence[0].actual == ["2001:db8:0:2::2", "198.51.100.2"]


def test_dual_stack_first_answer_from_a_hosts_line_names_that_line(make_pair, judge):
    """The AAAA comes from hosta's /etc/hosts, and hostb has an IPv6 address on a dual-stack
    migration network: the fix is that line, pointing at the right IPv6 address."""

    def hosts_line_and_v6(src):
        src["resolution"]["hosts_file"].append(
            {"address": "2001:db8:0:2::2", "line": 4, "names": [FAST_NAME], "valid": True}
        )

    def fast_v6(dst):
        link = next(link for link in dst["links"] if link["name"] == "b-fast")
        link["addresses"].append({"address": "2001:db8:0:100::2", "prefixlen": 64, "family": "inet6", "scope": 0})

    pair = make_pair(
        "dual-stack-wrong-first", src=hosts_line_and_v6, dst=fast_v6, network="198.51.100.0/24,2001:db8:0:100::/64"
    )
    finding = judge("dns.migration-host-address", pair)

    assert finding.status is Status.FAIL
    assert finding.remediation.startswith(
        f"hosta:/etc/hosts line 4: the IPv6 line for {FAST_NAME}: make it 2001:db8:0:100::2; or "
    )


@pytest.mark.parametrize(
    ("report", "network"), [("ipv6", "2001:db8:0:100::/64"), ("ipv6-literal", "198.51.100.0/24,2001:db8:0:100::/64")]
)
def test_ipv6_names_and_literals_on_the_migration_network_pass(make_pair, judge, report, network):
    pair = make_pair(report, network=network)

    for check_id in ("dns.migration-host-resolves", "dns.migration-host-address", "dns.forward-reverse"):
        assert judge(check_id, pair).status is Status.PASS, check_id


def test_a_looked_up_address_that_is_no_address_is_a_warning_naming_it(make_pair, judge):
    def malformed(src):
        for lookup in src["resolution"]["lookups"]:
            lookup["getaddrinfo"]["addresses"] = ["[/]"]

    finding = judge("dns.migration-host-not-loopback", make_pair(src=malformed))

    assert finding.status == Status.WARN
    assert finding.summary == (
        "hostb-fast.lab.test resolves on hosta to '[/]', not an address: whether it is loopback cannot be told"
    )
    assert finding.evidence[0].actual == ["[/]"]
