"""Trust on the migration path against the lab's real daemons: libvirt over TLS with the lab's CA
(the certificates are made at `lab up` and gone at `lab down`), a real TLS test migration, and
the ssh faults of field note 14, each judged by `migdoctor check` as an admin runs it."""

from pathlib import Path
from typing import Any

import pytest
from test_check_lab import check, told, validates

from migdoctor.judging.tls import parse
from migdoctor.lab import layout, state

pytestmark = pytest.mark.lab

TRUST = ("tls.server-names", "tls.validity", "tls.chain", "tls.migration-config", "trust.peer-connection")


# --- tls: healthy --------------------------------------------------------------------------------


def test_tls_migration_rides_the_migration_network_and_no_key_reaches_the_report(
    lab_scenario: Any, tmp_path: Path
) -> None:
    lab = lab_scenario("tls")

    run = check(tmp_path, "--test-migration", "--tls", "--one-way", "--include-facts")

    assert run.done.returncode == 0, run.done.stdout
    assert run.with_status("pass") >= {*TRUST, "migration.test-migration"}
    assert run.finding("trust.peer-connection")["summary"].startswith(
        "hosta's libvirtd account root opened qemu+tls://hostb.lab.test/system (virsh"
    )
    migration = run.finding("migration.test-migration")["summary"]
    assert migration.startswith("the canary crossed hosta a-fast -> hostb b-fast") and migration.endswith("over TLS")
    assert run.report["pairs"][0]["migration_trial"]["tls"] is True
    text = run.output.read_text()
    assert "PRIVATE KEY" not in text
    key = run.report["facts"]["hostb"]["tls"]["libvirt"]["server_key"]
    assert key == {"path": "/etc/pki/libvirt/private/serverkey.pem", "from": "default", "exists": True, "mode": "0600"}
    private = lab.run("hostb", "cat", key["path"]).stdout
    assert private.startswith("-----BEGIN PRIVATE KEY-----") and private not in text
    validates(run.output)


def test_forced_tls_refuses_a_migration_without_tls(lab_scenario: Any, tmp_path: Path) -> None:
    lab_scenario("tls")

    finding = check(tmp_path, "--test-migration", "--only", "migration").finding("migration.test-migration")

    assert finding["status"] == "fail"
    assert "this libvirtd instance allows migration only with VIR_MIGRATE_TLS flag" in finding["summary"]
    assert finding["remediation"].startswith("migrate_tls_force = 1 refuses migrations without TLS: pass --tls")


def test_certificates_live_in_the_hosts_and_go_with_the_lab(lab_scenario: Any) -> None:
    lab = lab_scenario("tls")
    created = "/etc/pki" in state.load()["mountpoints"]  # else the machine had one, which must stay

    pem = lab.run("hostb", "cat", "/etc/pki/qemu/server-cert.pem").stdout
    assert "hostb-fast.lab.test" in parse(pem).dns_names
    assert not Path("/etc/pki/qemu/server-cert.pem").exists()  # only inside the lab host
    lab.down()

    assert not layout.STATE_DIR.exists()
    assert Path("/etc/pki").exists() is not created


# --- tls-name-mismatch, tls-expired ------------------------------------------------------------


def test_certificate_without_the_migration_name_fails_and_so_does_the_tls_migration(
    lab_scenario: Any, tmp_path: Path
) -> None:
    lab = lab_scenario("tls-name-mismatch")

    run = check(tmp_path, "--test-migration", "--tls", "--only", "tls", "--only", "trust", "--only", "migration")

    assert run.done.returncode == 1
    names = run.finding("tls.server-names")
    assert names["status"] == "fail"
    assert names["summary"].startswith("hostb:/etc/pki/qemu/server-cert.pem does not name hostb-fast.lab.test")
    assert (
        names["remediation"]
        == "hostb:/etc/pki/qemu/server-cert.pem: reissue with subjectAltName DNS:hostb-fast.lab.test added"
    )
    assert run.finding("trust.peer-connection")["status"] == "pass"  # the URI's name is in the certificate
    migration = run.finding("migration.test-migration")
    assert migration["status"] == "fail" and "TLS channel" in migration["summary"]
    log = f"/var/log/libvirt/qemu/{run.report['pairs'][0]['migration_trial']['domain']}.log"
    assert migration["remediation"].endswith(f"QEMU's reason is in hosta:{log}")
    assert "Certificate does not match the hostname hostb-fast.lab.test" in lab.run("hosta", "cat", log).stdout


def test_expired_server_certificate_fails_validity_and_the_peer_connection(lab_scenario: Any, tmp_path: Path) -> None:
    lab_scenario("tls-expired")

    run = check(tmp_path, "--only", "tls", "--only", "trust")

    validity = run.finding("tls.validity")
    assert validity["status"] == "fail"
    assert validity["summary"].startswith(
        "hostb:/etc/pki/libvirt/servercert.pem (CN=hostb.lab.test server,O=migdoctor lab) expired 3 days ago"
    )
    peer = run.finding("trust.peer-connection")
    assert peer["status"] == "fail"
    assert "Failed to verify peer's certificate" in peer["summary"]
    assert run.finding("tls.chain")["status"] == "pass"


# --- ssh-hostkey-changed, ssh-unknown-alias --------------------------------------------------


def test_stale_host_key_is_named_before_the_migration_fails_on_it(lab_scenario: Any, tmp_path: Path) -> None:
    lab_scenario("ssh-hostkey-changed")

    run = check(tmp_path, "--test-migration", "--only", "trust", "--only", "migration")

    peer = run.finding("trust.peer-connection")
    assert peer["status"] == "fail"
    assert "known_hosts holds another key for hostb-fast.lab.test" in peer["summary"]
    assert "(line 3 of /root/.ssh/known_hosts)" in peer["summary"]
    assert peer["remediation"].startswith("hosta: as root: ssh-keygen -R hostb-fast.lab.test -f /root/.ssh/known_hosts")
    migration = run.finding("migration.test-migration")
    assert migration["status"] == "fail" and "Host key verification failed" in migration["summary"]


def test_unknown_alias_fails_fast_without_a_prompt(lab_scenario: Any, tmp_path: Path) -> None:
    lab_scenario("ssh-unknown-alias")

    run = check(tmp_path, "--only", "trust")

    peer = run.finding("trust.peer-connection")
    assert peer["status"] == "fail"
    assert "hosta's root known_hosts has no key for hostb-fast.lab.test, the exact name the URI uses" in told(peer)
    assert "Host key verification failed." in peer["summary"]
    assert run.report["duration_s"] < 10
