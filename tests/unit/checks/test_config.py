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


def test_fewer_ports_than_concurrent_migrations_fails(make_pair, judge):
    pair = make_pair(dst=qemu_conf(migration_port_min=49152, migration_port_max=49153), concurrent_migrations=4)

    finding = judge(CHECK, pair)

    assert finding.status == Status.FAIL
    assert finding.summary == "2 ports for 4 concurrent migrations"
    assert finding.remediation == f"{QEMU_CONF}: migration_port_max = 49155"


def test_privileged_range_with_qemu_user_unset_fails(make_pair, judge):
    """Unset, QEMU runs as the distribution's user (libvirt-qemu on Debian), which cannot bind below 1024."""

    def low_range(dst):
        values = dst["config"]["qemu_conf"]["values"]
        values.pop("user", None)
        values.update(migration_port_min=900, migration_port_max=963)

    finding = judge("config.migration-port-range", make_pair(dst=low_range))

    assert finding.status == Status.FAIL
    assert 'ports below 1024 need root but QEMU runs as "(unset: the distribution\'s QEMU user)"' in finding.summary
