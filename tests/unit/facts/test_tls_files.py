"""migdoctor.facts.tls on real files: certificates as PEM blocks, private keys as path, existence
and mode only, even in a combined PEM that holds the key beside the certificate."""

import json

from tls_records import make

from migdoctor.facts.tls import collect_tls, qemu_migration_files

KEY = "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg\n-----END PRIVATE KEY-----\n"


def test_certificates_kept_keys_never_read(tmp_path):
    cert = make("hostb server", issuer="Lab CA", sans=("hostb.lab.test",))
    (tmp_path / "server-cert.pem").write_text(KEY + cert)  # combined PEM: key first
    (tmp_path / "server-key.pem").write_text(KEY)
    (tmp_path / "server-key.pem").chmod(0o640)

    files = qemu_migration_files({"migrate_tls_x509_cert_dir": str(tmp_path)})

    assert files["dir_from"] == "qemu.conf migrate_tls_x509_cert_dir"
    assert files["server_cert"]["pem"] == [cert.strip()]
    assert files["server_key"] == {
        "path": str(tmp_path / "server-key.pem"),
        "from": "qemu.conf migrate_tls_x509_cert_dir",
        "exists": True,
        "mode": "0640",
    }
    assert files["client_cert"] == {
        "path": str(tmp_path / "client-cert.pem"),
        "from": "qemu.conf migrate_tls_x509_cert_dir",
        "exists": False,
        "pem": [],
        "error": None,
    }
    assert "PRIVATE KEY" not in json.dumps(files)


def test_a_file_without_certificates_says_so(tmp_path):
    (tmp_path / "cacert.pem").write_text(KEY)

    files = collect_tls({"libvirtd_conf": {"values": {"ca_file": str(tmp_path / "cacert.pem")}}})

    assert files["libvirt"]["ca"]["from"] == "libvirtd.conf ca_file"
    assert files["libvirt"]["ca"]["error"] == "no PEM certificate in the file"
    assert files["libvirt"]["server_cert"]["path"] == "/etc/pki/libvirt/servercert.pem"
    assert "PRIVATE KEY" not in json.dumps(files)
