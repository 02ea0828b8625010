"""The far-side half of the peer connection: libvirt's ssh command line in batch mode, and a
real connection attempt that must end, not prompt or hang, when nothing answers (loopback only)."""

import socket
from urllib.parse import urlsplit

from migdoctor.actions.peer import REMOTE_PROBE, connect, ssh_argv


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
