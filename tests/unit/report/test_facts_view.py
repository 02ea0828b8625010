"""`migdoctor facts HOST` for people: the TLS certificates a host has, with the names a peer
checks and their expiry; nothing about them when the host has none."""

from rich.console import Console
from tls_records import HOSTB_NAMES, with_tls

from migdoctor.report.facts_view import render_facts


def shown(record):
    console = Console(width=200, record=True)
    console.print(render_facts(record))
    return " ".join(console.export_text().split())  # one space wherever the table pads


def test_certificates_listed_with_names_and_expiry(captured):
    facts = captured("healthy")["facts"]["destination"]
    with_tls(facts, "hostb", HOSTB_NAMES)
    facts["tls"]["qemu_migrate"]["client_cert"].update(exists=True, pem=[], error="no PEM certificate in the file")

    text = shown(facts)

    assert "TLS certificates" in text
    assert (
        "/etc/pki/libvirt/servercert.pem │ hostb server │ hostb.lab.test, hostb-fast.lab.test, 198.51.100.2 │ 2027-11-27"
        in text
    )
    assert (
        "QEMU migration client_cert: /etc/pki/qemu/client-cert.pem │ /etc/pki/qemu/client-cert.pem: no PEM certificate"
        in text
    )
    assert "PRIVATE KEY" not in text and "server-key.pem" not in text


def test_no_certificates_no_table(captured):
    assert "TLS certificates" not in shown(captured("healthy")["facts"]["destination"])
