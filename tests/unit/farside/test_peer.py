"""The far-side half of the peer connection: libvirt's ssh command line in batch mode, a real
connection attempt that must end, not prompt or hang, when nothing answers, and the TLS handshake
with the client certificate where no libvirt client is installed (loopback only)."""

import contextlib
import socket
import ssl
import threading
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest

from migdoctor.farside.peer import REMOTE_PROBE, connect, ssh_argv, tls_handshake


def test_ssh_command_line_follows_the_uri():
    url = urlsplit("qemu+ssh://admin@kvm2.example.org:2222/system?keyfile=/k&no_verify=1&command=/usr/bin/ssh")
    params = {"keyfile": "/k", "no_verify": "1", "command": "/usr/bin/ssh", "known_hosts": "/kh"}

    assert ssh_argv(url, params) == [
        "/usr/bin/ssh",
        "-o",
        "BatchMode=yes",
        "-o",
        "ConnectTimeout=5",
        "-p",
        "2222",
        "-l",
        "admin",
        "-i",
        "/k",
        "-T",
        "-e",
        "none",
        "-o",
        "StrictHostKeyChecking=no",
        "-o",
        "UserKnownHostsFile=/kh",
        "--",
        "kvm2.example.org",
        REMOTE_PROBE,
    ]


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_nothing_listening_ends_with_ssh_words():
    record = connect(f"qemu+ssh://root@127.0.0.1:{closed_port()}/system", timeout=10)

    assert (record["method"], record["ok"], record["exit"]) == ("ssh", False, 255)
    assert "Connection refused" in record["output"][-1]
    assert record["seconds"] < 10


def test_tcp_uri_without_a_listener_fails():
    record = connect(f"qemu+tcp://127.0.0.1:{closed_port()}/system", timeout=10)

    assert record["ok"] is False
    assert "Connection refused" in record["output"][-1]


def test_local_uri_is_not_tried():
    record = connect("qemu:///system")

    assert (record["method"], record["ok"]) == ("none", None)


def write_pki(directory, server_names):
    """A CA, a server certificate naming SERVER_NAMES and a client certificate, as libvirt's pkipath holds them."""
    from cryptography.hazmat.primitives import serialization
    from tls_records import key, make

    def key_pem(name):
        return key(name).private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )

    validity = {"not_before": datetime.now(UTC) - timedelta(days=1), "not_after": datetime.now(UTC) + timedelta(days=9)}
    (directory / "cacert.pem").write_text(make("Lab CA", **validity))
    (directory / "servercert.pem").write_text(make("server", issuer="Lab CA", sans=server_names, **validity))
    (directory / "serverkey.pem").write_bytes(key_pem("server"))
    (directory / "clientcert.pem").write_text(make("client", issuer="Lab CA", purpose="clientAuth", **validity))
    (directory / "clientkey.pem").write_bytes(key_pem("client"))


@contextmanager
def tls_server(directory):
    """A TLS server on loopback that insists on a client certificate from the CA, as libvirtd does."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=str(directory / "cacert.pem"))
    context.verify_mode = ssl.CERT_REQUIRED
    context.load_cert_chain(directory / "servercert.pem", directory / "serverkey.pem")
    listener = socket.create_server(("127.0.0.1", 0))

    def serve():
        with contextlib.suppress(OSError):
            connection, _ = listener.accept()
            with contextlib.suppress(OSError, ssl.SSLError), context.wrap_socket(connection, server_side=True):
                pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        listener.close()
        thread.join(5)


@pytest.mark.parametrize(
    ("names", "ok", "says"),
    [(("127.0.0.1",), True, "TLS handshake with 127.0.0.1"), (("kvm2.example.org",), False, "IP address mismatch")],
)
def test_tls_handshake_with_the_client_certificate(tmp_path, names, ok, says):
    write_pki(tmp_path, names)
    with tls_server(tmp_path) as port:
        record = tls_handshake("127.0.0.1", port, {"pkipath": str(tmp_path)}, timeout=5)

    assert record["ok"] is ok
    assert says in record["output"][0]


@contextmanager
def silent_peer():
    """A loopback port that accepts connections and never says a word (a hung sshd or libvirtd)."""
    listener = socket.create_server(("127.0.0.1", 0))
    try:
        yield listener.getsockname()[1]
    finally:
        listener.close()


@pytest.mark.parametrize("scheme", ["qemu+ssh://root@", "qemu+tcp://"])  # ssh, and virsh where installed
def test_a_silent_peer_is_given_up_on_not_waited_for(scheme):
    with silent_peer() as port:
        record = connect(f"{scheme}127.0.0.1:{port}/system", timeout=1)

    assert record["ok"] is False
    assert record["output"] == ["no answer within 1 s"]


def test_tls_handshake_with_a_silent_peer_times_out(tmp_path):
    write_pki(tmp_path, ("127.0.0.1",))
    with silent_peer() as port:
        record = tls_handshake("127.0.0.1", port, {"pkipath": str(tmp_path)}, timeout=1)

    assert record["ok"] is False and record["seconds"] < 3
    assert "timed out" in record["output"][0]
