"""config.migration-port-range: hostb's qemu.conf migration_port_min/max (49152-49215 in the lab)
against the kernel's ephemeral ports (32768-60999); healthy reserves the range, seed does not."""

import pytest

from migdoctor.checkapi import Status

CHECK = "config.migration-port-range"
QEMU_CONF = "hostb:/etc/libvirt/qemu.conf"


def qemu_conf(**values):
    return lambda dst: dst["config"]["qemu_conf"]["values"].update(values)


def sysctl(**values):
    return lambda dst: dst["sysctl"].update(values)


@pytest.mark.parametrize(
    ("report", "mutation"),
    [
        ("healthy", None),  # the range is in ip_local_reserved_ports
        ("seed", sysctl(ip_local_reserved_ports=[[5900, 5999], [49152, 49215]])),
        ("seed", sysctl(ip_local_port_range=[32768, 49151])),  # ephemeral ports end below the range
    ],
    ids=["reserved", "reserved-among-others", "ephemeral-below"],
)
def test_range_clear_of_ephemeral_ports_passes(make_pair, judge, report, mutation):
    finding = judge(CHECK, make_pair(report, dst=mutation))

    assert (finding.status, finding.summary) == (
        Status.PASS,
        "hostb takes incoming migrations on 49152-49215 (64 ports)",
    )


def test_range_inside_ephemeral_ports_fails_naming_the_sysctl(make_pair, judge):
    finding = judge(CHECK, make_pair("seed"))

    assert finding.status == Status.FAIL
    assert finding.summary == (
        "range 49152-49215 overlaps the ephemeral ports 32768-60999: any outgoing connection may hold a migration port"
    )
    assert finding.evidence[1].item == "net.ipv4.ip_local_port_range less ip_local_reserved_ports"
    assert finding.evidence[1].actual == "32768-60999"
    assert finding.remediation == "hostb:/etc/sysctl.d/migration.conf: net.ipv4.ip_local_reserved_ports = 49152-49215"


def test_range_reserved_only_in_part_still_fails(make_pair, judge):
    finding = judge(CHECK, make_pair("seed", dst=sysctl(ip_local_reserved_ports=[[49152, 49199]])))

    assert finding.status == Status.FAIL
    assert finding.summary.startswith("range 49152-49215 overlaps the ephemeral ports 32768-60999")
    assert finding.remediation == "hostb:/etc/sysctl.d/migration.conf: net.ipv4.ip_local_reserved_ports = 49152-49215"


@pytest.mark.parametrize(
    ("values", "problem", "fix"),
    [
        (
            {"migration_port_min": 49215, "migration_port_max": 49152},
            "migration_port_min 49215 is above migration_port_max 49152",
            f"{QEMU_CONF}: migration_port_min = 49152, migration_port_max = 49215",
        ),
        (
            {"migration_port_max": 70000},
            "range 49152-70000 leaves 1-65535",
            f"{QEMU_CONF}: migration_port_max = 49215",
        ),
        (
            {"migration_port_min": 0, "migration_port_max": 63},
            "range 0-63 leaves 1-65535",
            f"{QEMU_CONF}: migration_port_min = 49152",
        ),
        (
            {"migration_port_min": 1000, "migration_port_max": 1063, "user": "libvirt-qemu"},
            "ports below 1024 need root but QEMU runs as 'libvirt-qemu'",
            f"{QEMU_CONF}: migration_port_min = 49152",
        ),
    ],
    ids=["inverted", "max-out-of-range", "min-zero", "privileged-non-root"],
)
def test_invalid_range_fails_naming_key_and_value(make_pair, judge, values, problem, fix):
    finding = judge(CHECK, make_pair(dst=qemu_conf(**values)))

    assert finding.status == Status.FAIL
    assert problem in finding.summary.split("; ")
    assert fix in finding.remediation.split("; ")
    assert finding.evidence[0].host == "hostb"


def test_privileged_range_is_fine_for_root(make_pair, judge):
    pair = make_pair(dst=qemu_conf(migration_port_min=1000, migration_port_max=1063, user="root"))

    assert judge(CHECK, pair).status == Status.PASS


def test_privileged_range_with_qemu_user_unset_fails(make_pair, judge):
    """Unset, QEMU runs as the distribution's user (libvirt-qemu on Debian), which cannot bind below 1024."""

    def low_range(dst):
        values = dst["config"]["qemu_conf"]["values"]
        values.pop("user", None)
        values.update(migration_port_min=900, migration_port_max=963)

    finding = judge("config.migration-port-range", make_pair(dst=low_range))

    assert finding.status == Status.FAIL
    assert 'ports below 1024 need root but QEMU runs as "(unset: the distribution\'s QEMU user)"' in finding.summary


@pytest.mark.parametrize(
    ("values", "summary"),
    [
        ({"migration_port_max": 99999999999}, "range 49152-99999999999 leaves 1-65535"),
        ({"migration_port_min": 1, "migration_port_max": 10**18}, "range 1-1000000000000000000 leaves 1-65535"),
        ({"migration_port_min": -5}, "range -5-49215 leaves 1-65535"),
    ],
    ids=["max-huge", "whole-int64", "negative"],
)
def test_absurd_port_numbers_fail_at_once_naming_the_key(make_pair, judge, values, summary):
    finding = judge(CHECK, make_pair("healthy", dst=qemu_conf(**values)))  # no loop over the range: no hang

    assert finding.status == Status.FAIL and summary in finding.summary
    assert f"{QEMU_CONF}: migration_port_" in finding.remediation


def test_reserved_ranges_read_from_the_host_are_intervals_not_loops(make_pair, judge):
    huge = sysctl(ip_local_port_range=[1, 10**12], ip_local_reserved_ports=[[1, 49151], [49152, 10**12]])

    finding = judge(CHECK, make_pair("seed", dst=huge))

    assert (finding.status, finding.summary) == (
        Status.PASS,
        "hostb takes incoming migrations on 49152-49215 (64 ports)",
    )


@pytest.mark.parametrize(
    ("values", "named"),
    [
        ({"migration_port_min": "abc"}, "hostb:/etc/libvirt/qemu.conf: migration_port_min = 'abc' is not a whole number"),
        ({"migration_port_max": [49152, 49215]}, "migration_port_max = [49152, 49215] is not a whole number"),
        ({"migration_port_min": True}, "migration_port_min = True is not a whole number"),
        ({"migration_host": ["a.example", "b.example"]}, "migration_host = ['a.example', 'b.example'] is not one host"),
        ({"migration_host": "fast\x1b[2J.example"}, "migration_host = 'fast\\x1b[2J.example' is not one host name"),
        ({"migration_address": "198.51.100.2 192.0.2.2"}, "migration_address = '198.51.100.2 192.0.2.2' is not one"),
        ({"user": 0}, "user = 0 is not one user name"),
    ],
    ids=["text-for-port", "list-for-port", "bool-for-port", "list-for-name", "escape-in-name", "two-addresses", "uid"],
)  # fmt: skip
def test_values_of_the_wrong_type_fail_naming_host_file_and_key(make_pair, judge, values, named):
    pair = make_pair("healthy", dst=qemu_conf(**values))

    typed = judge("config.value-types", pair)
    ranged = judge(CHECK, pair)

    assert typed.status == Status.FAIL and named in typed.summary, typed.summary
    assert typed.remediation.startswith(f"{QEMU_CONF}: set {next(iter(values))} to ")
    assert ranged.status in (Status.PASS, Status.FAIL)  # read as unset: judged, never an error


def test_libvirtd_flag_of_the_wrong_type_names_the_source_too(make_pair, judge):
    def listen_tcp(facts):
        facts["config"]["libvirtd_conf"]["values"]["listen_tcp"] = "yes"

    finding = judge("config.value-types", make_pair("healthy", src=listen_tcp))

    assert finding.status == Status.FAIL
    assert finding.summary == "hosta:/etc/libvirt/libvirtd.conf: listen_tcp = 'yes' is not 0 or 1"


def test_well_typed_settings_pass(make_pair, judge):
    assert judge("config.value-types", make_pair("seed")).status == Status.PASS
