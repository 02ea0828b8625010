r"""xen.*: hostb's /etc/xen/xend-config.sxp, written as admins write it and read by the same parser
the facts layer uses, so xend's quoting applies ('^hosta\\.lab\\.test$' is the regex ^hosta\.lab\.test$).

xend admits a relocation when a hosts-allow pattern matches the connecting address (hosta's
198.51.100.1) or the name hostb resolves it to (its PTR, hosta-fast.lab.test in the capture)."""

import pytest

from migdoctor.checkapi import Status
from migdoctor.parsers.sxp import parse_xend_config

XEND_CONFIG = "/etc/xen/xend-config.sxp"
SERVER = "xen.relocation-server"
HOSTS_ALLOW = "xen.hosts-allow"


def xend(*lines):
    """hostb with a xend-config.sxp of LINES."""
    text = "# xend configuration\n" + "\n".join(lines) + "\n"

    def mutate(dst):
        values = parse_xend_config(text, XEND_CONFIG)
        dst["config"]["xend_config"] = {"path": XEND_CONFIG, "present": True, "values": values}

    return mutate


def relocation(address):
    return xend("(xend-relocation-server yes)", "(xend-relocation-port 8002)", f"(xend-relocation-address '{address}')")


def hosts_allow(patterns):
    return xend(
        "(xend-relocation-server yes)",
        "(xend-relocation-address '198.51.100.2')",
        f"(xend-relocation-hosts-allow '{patterns}')",
    )


@pytest.mark.parametrize("check_id", [SERVER, HOSTS_ALLOW])
def test_kvm_host_without_xend_config_is_skipped(make_pair, judge, check_id):
    finding = judge(check_id, make_pair())

    assert (finding.status, finding.summary) == (Status.SKIP, f"hostb has no {XEND_CONFIG}: not a xend host")


@pytest.mark.parametrize(
    "config",
    [
        xend("(xend-relocation-server no)", "(xend-relocation-address '198.51.100.2')"),
        xend("(xend-relocation-port 8002)"),
    ],
    ids=["set-no", "unset"],
)
def test_relocation_server_off_fails(make_pair, judge, config):
    finding = judge(SERVER, make_pair(dst=config))

    assert finding.status == Status.FAIL
    assert finding.summary == "hostb's xend relocation server is off: it refuses every migration"
    assert [(e.host, e.item, e.actual, e.expected) for e in finding.evidence] == [
        ("hostb", "xend-relocation-server", "no", "yes")
    ]
    assert finding.remediation == f"hostb:{XEND_CONFIG}: (xend-relocation-server yes)"


@pytest.mark.parametrize("address", ["198.51.100.2", "b-fast"], ids=["address", "interface-name"])
def test_relocation_on_the_migration_network_passes(make_pair, judge, address):
    finding = judge(SERVER, make_pair(dst=relocation(address)))

    assert (finding.status, finding.summary) == (Status.PASS, f"hostb's xend relocation listens on {address}")


def test_relocation_on_every_address_warns(make_pair, judge):
    finding = judge(SERVER, make_pair(dst=relocation("")))

    assert finding.status == Status.WARN
    assert finding.summary == "hostb's xend listens for relocation on every address, not only the migration network"
    assert finding.remediation == f"hostb:{XEND_CONFIG}: (xend-relocation-address '198.51.100.2')"


@pytest.mark.parametrize(
    ("address", "problem"),
    [
        ("192.0.2.2", "is not on the migration network 198.51.100.0/24"),
        ("b-lan", "is not on the migration network 198.51.100.0/24"),
        ("eth9", "is not assigned on hostb: xend cannot listen there"),
        ("198.51.100.20", "is not assigned on hostb: xend cannot listen there"),
    ],
    ids=["lan-address", "lan-interface", "no-such-interface", "unassigned-address-on-the-network"],
)
def test_relocation_off_the_migration_network_or_unassigned_fails(make_pair, judge, address, problem):
    finding = judge(SERVER, make_pair(dst=relocation(address)))

    assert finding.status == Status.FAIL
    assert finding.summary == f"hostb's xend-relocation-address {address} {problem}"
    assert (finding.evidence[0].actual, finding.evidence[0].expected) == (address, ["198.51.100.2"])
    assert finding.remediation == f"hostb:{XEND_CONFIG}: (xend-relocation-address '198.51.100.2')"


def test_empty_hosts_allow_admits_everyone(make_pair, judge):
    finding = judge(HOSTS_ALLOW, make_pair(dst=relocation("198.51.100.2")))

    assert (finding.status, finding.summary) == (
        Status.PASS,
        "hostb's xend-relocation-hosts-allow is empty: every host is admitted",
    )


@pytest.mark.parametrize(
    ("patterns", "admitted_as"),
    [
        (r"^localhost$ ^hosta-fast\\.lab\\.test$", "hosta-fast.lab.test"),
        (r"^.*\\.lab\\.test$", "hosta-fast.lab.test"),
        (r"^198\\.51\\.100\\.", "198.51.100.1"),
    ],
    ids=["fqdn", "domain", "address"],
)
def test_pattern_matching_the_source_admits_it(make_pair, judge, patterns, admitted_as):
    finding = judge(HOSTS_ALLOW, make_pair(dst=hosts_allow(patterns)))

    assert (finding.status, finding.summary) == (Status.PASS, f"hostb admits hosta as {admitted_as}")


@pytest.mark.parametrize(
    "patterns",
    [r"^localhost$ ^hostc\\.lab\\.test$", r"^hosta\\.lab\\.test$"],
    ids=["other-hosts", "lan-hostname"],  # hosta.lab.test is hosta's own name, but on the LAN: xend never sees it
)
def test_no_pattern_matching_fails_naming_the_patterns(make_pair, judge, patterns):
    finding = judge(HOSTS_ALLOW, make_pair(dst=hosts_allow(patterns)))

    unquoted = patterns.replace("\\\\", "\\").split()
    assert finding.status == Status.FAIL
    assert finding.summary == (
        "no xend-relocation-hosts-allow pattern on hostb matches hosta (198.51.100.1, hosta-fast.lab.test)"
    )
    assert (finding.evidence[0].host, finding.evidence[0].actual) == ("hostb", unquoted)
    assert finding.remediation == (
        f"hostb:{XEND_CONFIG}: (xend-relocation-hosts-allow '{patterns} ^198\\\\.51\\\\.100\\\\.1$')"
    )


def test_invalid_pattern_fails_naming_it(make_pair, judge):
    finding = judge(HOSTS_ALLOW, make_pair(dst=hosts_allow(r"^localhost$ ^host[ab\\.lab\\.test$")))

    assert finding.status == Status.FAIL
    assert finding.summary.startswith(
        "hostb's xend-relocation-hosts-allow pattern '^host[ab\\\\.lab\\\\.test$' is not a valid regular expression:"
    )
    assert finding.remediation == f"hostb:{XEND_CONFIG}: fix or remove the pattern '^host[ab\\\\.lab\\\\.test$'"


def test_source_name_unknown_to_the_destination_is_skipped_unless_the_address_matches(make_pair, judge):
    def no_reverse(dst):
        hosts_allow(r"^hosta-fast\\.lab\\.test$")(dst)
        dst["resolution"]["reverse_lookups"] = []

    finding = judge(HOSTS_ALLOW, make_pair(dst=no_reverse))

    assert finding.status == Status.SKIP
    assert finding.summary == "hostb: no reverse look-up of 198.51.100.1 collected, and xend matches that name too"
