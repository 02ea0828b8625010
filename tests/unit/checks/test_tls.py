"""tls.*: the captured healthy lab pair given real certificates (tls_records), then broken the ways
trust breaks in production: a name missing from the server certificate, an expired or expiring
certificate, a certificate from another CA or missing, one host forcing TLS alone."""

from dataclasses import replace
from datetime import timedelta

import pytest
from tls_records import COLLECTED, HOSTA_NAMES, HOSTB_NAMES, TLS_URI, make, with_tls

from migdoctor.checkapi import Status


def tls_pair(make_pair, uri=TLS_URI, src=None, dst=None, **kwargs):
    """hosta and hostb with certificates from one lab CA; SRC/DST change them afterwards."""

    def mutate(host, names, change):
        def apply(facts):
            with_tls(facts, host, names)
            if change:
                change(facts)

        return apply

    return make_pair(
        src=mutate("hosta", HOSTA_NAMES, src), dst=mutate("hostb", HOSTB_NAMES, dst), dst_libvirt_uri=uri, **kwargs
    )


def server_cert(group="libvirt", **kwargs):
    def change(facts):
        facts["tls"][group]["server_cert"]["pem"] = [
            make("hostb server", issuer=kwargs.pop("issuer", "Lab CA"), **kwargs)
        ]

    return change


def force_tls(facts):
    facts["config"]["qemu_conf"]["values"]["migrate_tls_force"] = 1


@pytest.mark.parametrize("check", ["tls.server-names", "tls.validity", "tls.chain"])
def test_no_tls_on_the_path_skips(make_pair, judge, check):
    """The captured lab migrates over qemu+ssh without TLS: nothing to judge, and it says why."""
    finding = judge(check, tls_pair(make_pair, uri="qemu+ssh://root@hostb/system"))

    assert finding.status == Status.SKIP
    assert finding.summary.startswith("no TLS on the migration path")


def test_facts_without_tls_files_skip(make_pair, judge):
    """Facts saved before TLS files were collected."""

    def saved_before(facts):
        del facts["tls"]

    finding = judge("tls.chain", make_pair(dst_libvirt_uri=TLS_URI, src=saved_before, dst=saved_before))

    assert (finding.status, finding.summary) == (Status.SKIP, "hosta: tls not collected; hostb: tls not collected")


def test_server_names_cover_the_uri_host_and_migration_host(make_pair, judge):
    finding = judge("tls.server-names", tls_pair(make_pair, src=force_tls, dst=force_tls))

    assert finding.status == Status.PASS
    assert [(e.item, e.expected) for e in finding.evidence] == [
        (f"/etc/pki/libvirt/servercert.pem names (the URI {TLS_URI})", "hostb.lab.test"),
        ("/etc/pki/qemu/server-cert.pem names (hosta's qemu.conf migrate_tls_force = 1)", "hostb-fast.lab.test"),
    ]


def test_uri_host_missing_from_the_server_certificate_fails(make_pair, judge):
    pair = tls_pair(make_pair, uri="qemu+tls://192.0.2.2/system")

    finding = judge("tls.server-names", pair)

    assert finding.status == Status.FAIL
    assert "Certificate [session] owner does not match the hostname 192.0.2.2" in finding.summary
    assert finding.evidence[0].actual == list(HOSTB_NAMES)
    assert (
        finding.remediation == "hostb:/etc/pki/libvirt/servercert.pem: reissue with subjectAltName IP:192.0.2.2 added"
    )


def test_migration_host_missing_from_the_qemu_certificate_fails(make_pair, judge):
    """migration_host names the fast link, the certificate only the LAN name (a failure seen in the field)."""
    finding = judge(
        "tls.server-names",
        tls_pair(make_pair, dst=server_cert("qemu_migrate", sans=("hostb.lab.test",)), src=force_tls),
    )

    assert finding.status == Status.FAIL
    assert finding.summary.startswith("hostb:/etc/pki/qemu/server-cert.pem does not name hostb-fast.lab.test")
    assert finding.remediation == (
        "hostb:/etc/pki/qemu/server-cert.pem: reissue with subjectAltName DNS:hostb-fast.lab.test added"
    )


def test_migrate_uri_host_is_what_the_stream_checks(make_pair, judge):
    """--migrate-uri tcp://198.51.100.2:49152 --tls: QEMU checks the address, which the certificate has."""
    pair = tls_pair(make_pair, src=force_tls)
    pair = replace(pair, trial_terms=replace(pair.trial_terms, migrate_uri="tcp://198.51.100.2:49152"))
    finding = judge("tls.server-names", pair)

    assert finding.status == Status.PASS
    assert finding.evidence[1].expected == "198.51.100.2"


def test_wildcard_and_common_name_matching(make_pair, judge):
    wildcard = judge("tls.server-names", tls_pair(make_pair, dst=server_cert(sans=("*.lab.test",))))
    too_deep = judge(
        "tls.server-names",
        tls_pair(make_pair, uri="qemu+tls://x.hostb.lab.test/system", dst=server_cert(sans=("*.lab.test",))),
    )

    assert (wildcard.status, too_deep.status) == (Status.PASS, Status.FAIL)


def test_valid_certificates_pass(make_pair, judge):
    finding = judge("tls.validity", tls_pair(make_pair))

    assert finding.status == Status.PASS
    assert finding.summary == "4 certificates valid for more than 30 days"


def test_expired_server_certificate_fails(make_pair, judge):
    expired = server_cert(not_before=COLLECTED - timedelta(days=400), not_after=COLLECTED - timedelta(days=3))

    finding = judge("tls.validity", tls_pair(make_pair, dst=expired))

    assert finding.status == Status.FAIL
    assert finding.summary.startswith(
        "hostb:/etc/pki/libvirt/servercert.pem (CN=hostb server,O=lab) expired 3 days ago"
    )


def test_certificate_expiring_within_30_days_warns_with_days_left(make_pair, judge):
    finding = judge(
        "tls.validity", tls_pair(make_pair, dst=server_cert(not_after=COLLECTED + timedelta(days=12, hours=1)))
    )

    assert finding.status == Status.WARN
    assert "expires in 12 days" in finding.summary


def test_chain_both_ways_passes(make_pair, judge):
    finding = judge("tls.chain", tls_pair(make_pair))

    assert finding.status == Status.PASS
    assert [e.actual for e in finding.evidence] == [
        "CN=hostb server,O=lab <- CN=Lab CA,O=lab",
        "CN=hosta client,O=lab <- CN=Lab CA,O=lab",
    ]


def test_server_certificate_from_another_ca_fails(make_pair, judge):
    finding = judge("tls.chain", tls_pair(make_pair, dst=server_cert(issuer="Other CA", sans=HOSTB_NAMES)))

    assert finding.status == Status.FAIL
    assert "issued by CN=Other CA,O=lab) does not verify against hosta:/etc/pki/CA/cacert.pem" in finding.summary


def test_missing_client_certificate_on_the_source_fails(make_pair, judge):
    def no_client(facts):
        facts["tls"]["libvirt"]["client_cert"].update(exists=False, pem=[])

    finding = judge("tls.chain", tls_pair(make_pair, src=no_client))

    assert finding.status == Status.FAIL
    assert finding.summary == "hosta lacks its libvirt client cert: /etc/pki/libvirt/clientcert.pem does not exist"


def test_missing_server_key_fails(make_pair, judge):
    def no_key(facts):
        facts["tls"]["qemu_migrate"]["server_key"].update(exists=False, mode=None)

    finding = judge("tls.chain", tls_pair(make_pair, src=force_tls, dst=no_key))

    assert finding.status == Status.FAIL
    assert finding.summary == ("hostb has its QEMU migration server cert but not its key /etc/pki/qemu/server-key.pem")


def test_client_certificate_not_checked_when_the_destination_does_not_verify(make_pair, judge):
    def no_client(facts):
        facts["tls"]["libvirt"]["client_cert"].update(exists=False, pem=[])

    def no_verify(facts):
        facts["config"]["libvirtd_conf"]["values"]["tls_no_verify_certificate"] = 1

    finding = judge("tls.chain", tls_pair(make_pair, src=no_client, dst=no_verify))

    assert finding.status == Status.PASS


def test_server_certificate_for_clients_only_fails(make_pair, judge):
    finding = judge("tls.chain", tls_pair(make_pair, dst=server_cert(sans=HOSTB_NAMES, purpose="clientAuth")))

    assert finding.status == Status.FAIL
    assert "server cert is not for serverAuth" in finding.summary


def test_migration_tls_config_consistent_passes(make_pair, judge):
    finding = judge("tls.migration-config", tls_pair(make_pair, src=force_tls, dst=force_tls))

    assert (finding.status, finding.summary) == (
        Status.PASS,
        "TLS for migrations is forced on both hosts; both verify the client's certificate",
    )


def test_tls_forced_on_one_host_only_fails(make_pair, judge):
    finding = judge("tls.migration-config", tls_pair(make_pair, dst=force_tls))

    assert finding.status == Status.FAIL
    assert finding.summary.startswith("hostb forces TLS on migrations (migrate_tls_force = 1), hosta does not")
    assert finding.remediation.startswith("hosta:/etc/libvirt/qemu.conf: migrate_tls_force = 1")


def test_unverified_migration_clients_warn(make_pair, judge):
    def no_verify(facts):
        facts["config"]["qemu_conf"]["values"]["migrate_tls_x509_verify"] = 0

    finding = judge("tls.migration-config", tls_pair(make_pair, dst=no_verify))

    assert finding.status == Status.WARN
    assert finding.remediation == "hostb:/etc/libvirt/qemu.conf: migrate_tls_x509_verify = 1"


def test_a_certificate_file_holding_no_certificate_fails_naming_it(make_pair, judge):
    def empty(side, role):
        def change(facts):
            facts["tls"]["libvirt"][role]["pem"] = []

        return {side: change}

    chain = judge("tls.chain", tls_pair(make_pair, **empty("src", "client_cert")))
    names = judge("tls.server-names", tls_pair(make_pair, **empty("dst", "server_cert")))

    assert chain.status == Status.FAIL
    assert chain.summary == "hosta lacks its libvirt client cert: /etc/pki/libvirt/clientcert.pem holds no certificate"
    assert names.status == Status.FAIL
    assert names.summary.startswith(
        "hostb has no libvirt server certificate: /etc/pki/libvirt/servercert.pem holds no certificate"
    )
