"""migration.test-migration judges the trial record a real test migration leaves (legs with the
links that carried each, libvirt's error, the stream rate) against the migration network."""

import json
from pathlib import Path

import pytest
from check_records import leg, trial

# A real round trip in the seed lab once hostb advertised its fast name (scripts/make-examples.sh):
# there by the fast link, back by the LAN, as hosta still advertises its LAN name.
SEED_FIXED = Path(__file__).parents[3] / "reports" / "example-seed-fixed.json"


def test_fast_round_trip_passes_with_its_share_of_the_link(make_pair, judge) -> None:
    back = leg("b-fast", "a-fast", **{"from": "hostb", "to": "hosta"})
    finding = judge("migration.test-migration", make_pair(trial=trial(leg(), back)))
    assert finding.status == "pass"
    assert finding.summary == (
        "the canary crossed hosta a-fast -> hostb b-fast at 955.0 Mb/s (96% of 1000 Mb/s) and back at 955.0 Mb/s"
    )


def test_return_leg_that_took_the_lan_fails_with_the_sources_migration_host_line(make_pair, judge) -> None:
    captured = json.loads(SEED_FIXED.read_text(encoding="utf-8"))["pairs"][0]["migration_trial"]
    there, back = captured["legs"]
    assert (there["source_link"], back["source_link"]) == ("a-fast", "b-lan")  # what the lab measured

    finding = judge("migration.test-migration", make_pair("seed", trial=captured))

    assert finding.status == "fail"
    assert finding.summary == (
        "the return migration's stream left hostb by b-lan and reached hosta on a-lan, "
        "off the migration network 198.51.100.0/24"
    )
    assert finding.remediation == 'hosta:/etc/libvirt/qemu.conf: migration_host = "hosta-fast.lab.test"'
    assert ("hostb", "link that carried the stream", "b-lan", ["b-fast"]) in [
        (e.host, e.item, e.actual, e.expected) for e in finding.evidence
    ]


def test_slow_return_leg_fails_below_the_floor_of_its_own_link(make_pair, judge) -> None:
    back = leg("b-fast", "a-fast", rate=300.0, **{"from": "hostb", "to": "hosta"})
    finding = judge("migration.test-migration", make_pair(trial=trial(leg(), back)))
    assert finding.status == "fail"
    assert finding.summary == (
        "the return migration moved 300.0 Mb/s on b-fast, below 500 Mb/s (link effective speed 1000 Mb/s)"
    )
    assert finding.remediation.startswith("hostb: check what else loads b-fast")


def test_stream_that_took_the_lan_fails_with_the_migration_host_line(make_pair, judge) -> None:
    finding = judge("migration.test-migration", make_pair("seed", trial=trial(leg("a-lan", "b-lan", 94.0))))
    assert finding.status == "fail"
    assert finding.summary == (
        "the migration stream left hosta by a-lan and reached hostb on b-lan, off the migration network 198.51.100.0/24"
    )
    assert finding.remediation == 'hostb:/etc/libvirt/qemu.conf: migration_host = "hostb-fast.lab.test"'


def test_failed_migration_carries_libvirts_error(make_pair, judge) -> None:
    error = "unable to connect to server at 'hostb-fast.lab.test:49152': Connection refused"
    finding = judge("migration.test-migration", make_pair(trial=trial(leg(ok=False, error=error))))
    assert finding.status == "fail" and finding.summary.endswith(error)


# What libvirt said in the lab's tls scenario without --tls, and in tls-name-mismatch with it.
@pytest.mark.parametrize(
    ("error", "hint"),
    [
        (
            "Requested operation is not valid: this libvirtd instance allows migration only with VIR_MIGRATE_TLS flag",
            "migrate_tls_force = 1 refuses migrations without TLS: pass --tls (see tls.migration-config)",
        ),
        (
            "internal error: qemu unexpectedly closed the monitor: 2026-11-27T10:28:31.402240Z qemu-system-x86_64: "
            "Cannot read from TLS channel: Input/output error",
            "the stream's TLS handshake failed: see the tls.* findings; QEMU's reason is in "
            "hosta:/var/log/libvirt/qemu/migdoctor-canary-x.log",
        ),
    ],
)
def test_failed_tls_migration_points_at_the_tls_cause(make_pair, judge, error, hint) -> None:
    finding = judge("migration.test-migration", make_pair(trial=trial(leg(ok=False, error=error))))
    assert (finding.status, finding.remediation) == ("fail", hint)


def test_tls_stream_is_said_to_be_over_tls(make_pair, judge) -> None:
    finding = judge("migration.test-migration", make_pair(trial=trial(leg()) | {"tls": True}))
    assert finding.summary.endswith("(96% of 1000 Mb/s) over TLS")


@pytest.mark.parametrize(
    ("rate", "options", "floor"),
    [(400.0, {}, "500"), (900.0, {"min_rate_mbps": 950}, "950"), (700.0, {"min_rate_fraction": 0.8}, "800")],
)
def test_slow_stream_fails_below_the_stated_floor(make_pair, judge, rate, options, floor) -> None:
    finding = judge("migration.test-migration", make_pair(trial=trial(leg(rate=rate)), **options))
    assert finding.status == "fail"
    assert f"moved {rate} Mb/s on a-fast, below {floor} Mb/s (link effective speed 1000 Mb/s)" in finding.summary


def test_failed_return_and_interruption_fail(make_pair, judge) -> None:
    error = "internal error: qemu unexpectedly closed the monitor: Cannot read from TLS channel: Input/output error"
    back = leg("b-fast", "a-fast", ok=False, error=error, **{"from": "hostb", "to": "hosta"})
    failed = judge("migration.test-migration", make_pair(trial=trial(leg(), back)))
    assert failed.summary == f"the return migration failed: {error}"
    assert failed.remediation.endswith("QEMU's reason is in hostb:/var/log/libvirt/qemu/migdoctor-canary-x.log")
    interrupted = judge("migration.test-migration", make_pair(trial=trial(leg(), interrupted=True)))
    assert interrupted.status == "fail" and "interrupted" in interrupted.summary


def test_not_run_is_skipped(make_pair, judge) -> None:
    finding = judge("migration.test-migration", make_pair())
    assert finding.status == "skip" and finding.summary == "test migration not run (use --test-migration)"


def test_refused_in_a_run_of_several_pairs_is_skipped_naming_the_host_and_how_to_try_again(make_pair, judge) -> None:
    refused = {"refused": "hostb: no libvirt URI (set libvirt_uri in the inventory)"}
    finding = judge("migration.test-migration", make_pair(trial=refused))
    assert finding.status == "skip"
    assert finding.summary == (
        "test migration refused: hostb: no libvirt URI (set libvirt_uri in the inventory); this pair's other "
        "checks ran: once that is fixed, `migdoctor migrate-test hosta hostb` tries it alone"
    )


def test_peer_connection_lost_points_to_the_source_log(make_pair, judge) -> None:
    error = "End of file while reading data: : Input/output error"
    finding = judge("migration.test-migration", make_pair(trial=trial(leg(ok=False, error=error))))
    assert finding.status == "fail"
    assert finding.remediation.endswith("which can hide the first error: hosta's libvirtd log has it")


def test_incomplete_clean_up_is_a_warning_naming_what_is_left(make_pair, judge) -> None:
    record = trial(leg(), leg("b-fast", "a-fast", **{"from": "hostb", "to": "hosta"}))
    record["cleanup"] = [
        "hostb: clean-up incomplete, remove migdoctor-canary-x and /var/tmp/x.payload by hand: ssh failed"
    ]
    finding = judge("migration.test-migration", make_pair(trial=record))
    assert finding.status == "warn"
    assert finding.summary.startswith("the test migration passed, but its clean-up is incomplete: hostb: clean-up")
    assert ("hostb", "clean-up") in [(e.host, e.item) for e in finding.evidence]


def test_without_a_migration_network_it_warns_naming_the_carrying_link(make_pair, judge) -> None:
    finding = judge("migration.test-migration", make_pair(network=None, trial=trial(leg("a-lan", "b-lan", rate=95.0))))

    assert finding.status == "warn"
    assert finding.summary == (
        "the canary crossed hosta a-lan -> hostb b-lan at 95.0 Mb/s (95% of 100 Mb/s), but no migration network "
        "was given or inferable to judge that link against"
    )
    assert "None" not in finding.summary
    assert finding.remediation.startswith("name the network migrations should take: --migration-network CIDR")
