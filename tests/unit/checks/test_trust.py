"""trust.peer-connection on what `migdoctor peer-connect` answered inside the lab hosts
(tests/data/peer, captured from the tls, tls-expired, ssh-hostkey-changed and ssh-unknown-alias
scenarios): the verdict, ssh's or libvirt's words, and the fix on the host that needs it."""

import json
from pathlib import Path

import pytest

from migdoctor.checkapi import Status

PEER_DIR = Path(__file__).resolve().parents[2] / "data" / "peer"


def peer(name, **change):
    return json.loads((PEER_DIR / f"{name}.json").read_text()) | change


def judged(make_pair, judge, record, uri=None):
    """The check on the captured pair, the source's facts carrying RECORD, the URI it opened."""

    def tried(facts):
        if record is not None:
            facts["peer_connection"] = record

    return judge("trust.peer-connection", make_pair(src=tried, dst_libvirt_uri=uri or (record or {}).get("uri")))


@pytest.mark.parametrize(
    ("name", "summary"),
    [
        (
            "tls-ok",
            "hosta's libvirtd account root opened qemu+tls://hostb.lab.test/system (virsh, 0.02 s): hostb.lab.test",
        ),
        (
            "ssh-ok",
            "hosta's libvirtd account root opened qemu+ssh://root@hosta-fast.lab.test/system (ssh, 0.35 s): "
            "libvirt socket /var/run/libvirt/libvirt-sock",
        ),
    ],
)
def test_connection_opened_passes(make_pair, judge, name, summary):
    finding = judged(make_pair, judge, peer(name))

    assert (finding.status, finding.summary) == (Status.PASS, summary)


def test_stale_host_key_names_the_known_hosts_line(make_pair, judge):
    finding = judged(make_pair, judge, peer("ssh-hostkey-changed"))

    assert finding.status == Status.FAIL
    assert finding.summary == (
        "hosta's libvirtd (root) cannot open qemu+ssh://root@hostb-fast.lab.test/system: hosta's root known_hosts "
        "holds another key for hostb-fast.lab.test (a reinstalled or replaced destination) (line 3 of "
        "/root/.ssh/known_hosts): Host key for hostb-fast.lab.test has changed and you have requested strict checking."
    )
    assert finding.remediation.startswith(
        "hosta: as root: ssh-keygen -R hostb-fast.lab.test -f /root/.ssh/known_hosts; then compare hostb's"
    )
    assert finding.evidence[0].item.startswith("ssh as root: ssh -o BatchMode=yes -o ConnectTimeout=5 -l root")


def test_unknown_alias_asks_for_the_exact_name(make_pair, judge):
    finding = judged(make_pair, judge, peer("ssh-unknown-alias"))

    assert finding.status == Status.FAIL
    assert "hosta's root known_hosts has no key for hostb-fast.lab.test, the exact name the URI uses" in finding.summary
    assert finding.summary.endswith(": Host key verification failed.")
    assert "append the `ssh-keyscan hostb-fast.lab.test` line to ~root/.ssh/known_hosts" in finding.remediation


def test_refused_key_points_at_authorized_keys(make_pair, judge):
    finding = judged(make_pair, judge, peer("ssh-permission-denied"))

    assert finding.status == Status.FAIL
    assert finding.summary.endswith(
        "hostb refused hosta's root keys: nobody@hostb.lab.test: Permission denied (publickey)."
    )
    assert finding.remediation.startswith("hostb: add hosta's root public key")


def test_certificate_without_the_uri_host_gives_libvirts_words(make_pair, judge):
    finding = judged(make_pair, judge, peer("tls-owner-mismatch"))

    assert finding.status == Status.FAIL
    assert finding.summary == (
        "hosta's libvirtd (root) cannot open qemu+tls://hostb-mgmt.lab.test/system: the server certificate does not "
        "name hostb-mgmt.lab.test: authentication failed: Failed to verify peer's certificate (Certificate check "
        "failed Certificate [session] owner does not match the hostname hostb-mgmt.lab.test)"
    )
    assert finding.remediation == "see tls.server-names"


def test_missing_ca_certificate_on_the_source_is_named(make_pair, judge):
    """virsh's words on a machine without /etc/pki (where these tests were written)."""
    finding = judged(make_pair, judge, peer("tls-no-ca"))

    assert finding.status == Status.FAIL
    assert finding.summary.endswith(
        "hosta lacks a file libvirt's TLS client reads: "
        "Cannot read CA certificate '/etc/pki/CA/cacert.pem': No such file or directory"
    )
    assert finding.remediation == "hosta: install it (see tls.chain)"


def test_expired_certificate_fails(make_pair, judge):
    finding = judged(make_pair, judge, peer("tls-expired"))

    assert finding.status == Status.FAIL
    assert "Failed to verify peer's certificate" in finding.summary
    assert finding.remediation == "see tls.chain and tls.validity"


def test_refused_connection_points_at_listeners_and_firewall(make_pair, judge):
    finding = judged(make_pair, judge, peer("tls-refused"))

    assert finding.status == Status.FAIL
    assert finding.summary.endswith("unable to connect to server at '198.51.100.2:16514': Connection refused")
    assert finding.remediation == "see the listen.libvirt-remote and firewall.libvirt-ports findings"


def test_tried_as_another_account_warns(make_pair, judge):
    finding = judged(make_pair, judge, peer("ssh-ok", ran_as="admin"))

    assert finding.status == Status.WARN
    assert "opened as admin, but hosta's libvirtd runs as root" in finding.summary


def test_saved_connection_to_another_uri_is_not_judged(make_pair, judge):
    finding = judged(make_pair, judge, peer("tls-ok"), uri="qemu+ssh://root@hostb/system")

    assert (finding.status, finding.summary) == (
        Status.SKIP,
        "the saved peer connection opened qemu+tls://hostb.lab.test/system, not qemu+ssh://root@hostb/system",
    )


@pytest.mark.parametrize(
    ("record", "reason"),
    [
        (None, "peer connection not tried (saved facts, or --no-probe)"),
        (
            {"uri": "qemu+ssh://root@hostb/system", "error": "hosta: ssh to hosta failed: Connection refused"},
            "peer connection not tried: hosta: ssh to hosta failed: Connection refused",
        ),
    ],
)
def test_not_tried_skips_with_the_reason(make_pair, judge, record, reason):
    finding = judged(make_pair, judge, record)

    assert (finding.status, finding.summary) == (Status.SKIP, reason)


@pytest.mark.parametrize("lacking", ["account", "ok", "method"])
def test_a_record_lacking_a_part_it_was_tried_with_is_a_warning_naming_it(make_pair, judge, lacking):
    record = peer("tls-ok")
    del record[lacking]

    finding = judged(make_pair, judge, record)

    assert finding.status == Status.WARN
    assert f"hosta's peer connection record lacks {lacking}" in finding.summary
    assert finding.evidence[0].item == f"peer_connection.{lacking}"
