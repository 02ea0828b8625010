"""The far side's SSH connection is a ControlMaster in a private directory of the run, and
libvirt's qemu+ssh connection to the same destination is routed through it; anything else keeps
its own connection. (The lab test test_far_side_lab.py counts the logins on a real sshd.)"""

import contextlib
import os
import socket
import stat
import sys
import threading

import pytest

from migdoctor.transports import TransportError, parse_spec, transport_for
from migdoctor.transports.ssh import SshTransport, uri_command, with_command


def ssh_transport(spec: str, **entry: object) -> SshTransport:
    transport = transport_for(parse_spec("kvm1", spec, dict(entry)))
    assert isinstance(transport, SshTransport)
    return transport


@pytest.mark.parametrize(
    ("spec", "uri", "same"),
    [
        ("ssh://root@kvm1", "qemu+ssh://root@kvm1/system", True),
        ("ssh://root@kvm1", "qemu+ssh://root@kvm1/system?command=/usr/local/bin/ssh-wrapper", True),
        ("ssh://kvm1:2222", "xen+ssh://kvm1:2222/system", True),
        ("ssh://root@kvm1", "qemu+ssh://kvm1/system", False),  # another user: another login
        ("ssh://root@kvm1", "qemu+ssh://root@kvm1.example.org/system", False),  # a name ssh_config may route elsewhere
        ("ssh://root@kvm1:2222", "qemu+ssh://root@kvm1/system", False),
        ("ssh://root@kvm1", "qemu+tls://kvm1/system", False),
        ("ssh://root@kvm1", "qemu+libssh2://root@kvm1/system", False),  # libvirt's own SSH client, no ssh command
        ("ssh://root@kvm1", "qemu+ssh://root@kvm1:notaport/system", False),
    ],
)
def test_only_a_libvirt_uri_over_ssh_to_the_same_user_host_and_port_rides_on_the_master(spec, uri, same) -> None:
    assert ssh_transport(spec).same_destination(uri) is same


def test_the_master_lives_in_a_private_directory_removed_at_close() -> None:
    transport = ssh_transport("ssh://root@kvm1")
    assert transport.master_options() == []  # nothing is made before the far side starts
    transport.prepare_master()
    assert transport.mux_dir is not None
    directory = transport.mux_dir
    assert stat.S_IMODE(os.stat(directory).st_mode) == 0o700
    argv = transport.far_side_argv()
    assert argv[argv.index("--") - 6 : argv.index("--")] == [
        "-o",
        "ControlMaster=yes",
        "-o",
        f"ControlPath={directory}/master",
        "-o",
        "ControlPersist=no",
    ]
    transport.close()
    assert not os.path.exists(directory) and transport.mux_dir is None


def test_the_inventorys_own_multiplexing_is_left_alone() -> None:
    transport = ssh_transport("ssh://root@kvm1", ssh_args=["-o", "ControlPath=~/.ssh/cm-%C"])
    transport.prepare_master()
    assert transport.mux_dir is None and not transport.multiplexed
    assert "ControlMaster=yes" not in transport.far_side_argv()
    assert transport.libvirt_route() == "qemu+ssh://root@kvm1/system"  # no wait for a master


def test_a_master_socket_path_too_long_for_ssh_means_no_master(tmp_path, monkeypatch) -> None:
    deep = tmp_path / ("d" * 100)
    deep.mkdir()
    monkeypatch.setenv("TMPDIR", str(deep))
    monkeypatch.setattr("tempfile.tempdir", None)  # read TMPDIR again
    transport = ssh_transport("ssh://root@kvm1")
    transport.prepare_master()
    assert transport.mux_dir is None and list(deep.iterdir()) == []
    assert "ControlMaster=yes" not in transport.far_side_argv()


def test_libvirts_ssh_command_is_swapped_for_the_wrapper_and_the_other_parameters_stay_as_written() -> None:
    uri = "qemu+ssh://root@kvm1/system?keyfile=/root/my%20key&command=/usr/local/bin/ssh%2Bjump&no_tty=1"
    assert uri_command(uri) == "/usr/local/bin/ssh+jump"  # %XX unescaped, as libvirt does; '+' would stay '+'
    assert with_command(uri, "/tmp/migdoctor-ssh-x/ssh") == (
        "qemu+ssh://root@kvm1/system?keyfile=/root/my%20key&no_tty=1&command=/tmp/migdoctor-ssh-x/ssh"
    )
    assert uri_command("qemu+ssh://root@kvm1/system") is None
    assert (
        with_command("qemu+ssh://root@kvm1/system", "/tmp/a b/ssh")
        == "qemu+ssh://root@kvm1/system?command=/tmp/a%20b/ssh"
    )


def greets_then_ends(transport: SshTransport, seconds: float) -> None:
    """TRANSPORT's far side made a local process that prints the first stage's first line, then
    ends after SECONDS without finishing its start."""
    script = f"import time; print('migdoctor-far-side 0d0d0a0a 3.11', flush=True); time.sleep({seconds})"
    transport.far_side_argv = lambda: [sys.executable, "-c", script]  # type: ignore[method-assign]


def start_quietly(transport: SshTransport) -> None:
    with contextlib.suppress(TransportError):
        transport.started()


def test_libvirt_rides_the_master_once_the_far_side_answers_not_once_its_start_ends() -> None:
    """The first line means ssh is connected and its master takes sessions: libvirt's connection
    is routed then, while the far side's start goes on."""
    transport = ssh_transport("ssh://root@kvm1")
    greets_then_ends(transport, 2.0)
    starting = threading.Thread(target=start_quietly, args=(transport,), daemon=True)
    starting.start()
    route, mux_dir = transport.libvirt_route(), transport.mux_dir
    still_starting = starting.is_alive()
    starting.join()
    transport.close()
    assert mux_dir is not None and route == f"qemu+ssh://root@kvm1/system?command={mux_dir}/ssh"
    assert still_starting  # the start itself went on to wait for the far side's ready line


def test_libvirt_rides_the_master_as_soon_as_its_socket_is_there() -> None:
    """OpenSSH binds the control socket once authenticated, before the far side's session opens:
    libvirt's connection need not wait for the far side's first line."""
    transport = ssh_transport("ssh://root@kvm1")
    transport.far_side_argv = lambda: [sys.executable, "-c", "import time; time.sleep(2)"]  # type: ignore[method-assign]
    starting = threading.Thread(target=start_quietly, args=(transport,), daemon=True)
    starting.start()
    transport.spawned.wait(5)
    assert transport.mux_dir is not None
    with socket.socket(socket.AF_UNIX) as master:
        master.bind(transport.control_path())
        route = transport.libvirt_route()
        still_starting = starting.is_alive()
    starting.join()
    transport.close()
    assert route is not None and route.endswith("/ssh") and still_starting


def test_a_far_side_that_fails_before_answering_leaves_libvirt_no_master() -> None:
    transport = ssh_transport("ssh://root@kvm1")
    transport.far_side_argv = lambda: [sys.executable, "-c", "raise SystemExit(3)"]  # type: ignore[method-assign]
    with pytest.raises(TransportError):
        transport.started()
    with pytest.raises(TransportError, match="no far side to reach libvirt through"):
        transport.libvirt_route()
    transport.close()
