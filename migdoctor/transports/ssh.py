"""`ssh://[user@]host[:port]`: the system OpenSSH client (the admin's ssh_config, keys and
ProxyJump apply), one connection per host per run. Nothing needs to be installed there: the
host's python3 (3.9 or newer, standard library only) runs a first stage given on its command
line, which receives the second stage and the bundle over the same connection. That connection
is a ControlMaster in a private directory of this run, so libvirt's qemu+ssh connection to the same
host rides on it instead of a second SSH handshake (each one costs both ends ~0.15 s of CPU)."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import tempfile
import threading
import time
from typing import Any
from urllib.parse import quote, unquote, urlsplit, urlunsplit

from migdoctor.transports import Transport, TransportError
from migdoctor.transports.session import START_TIMEOUT_S, FarSide

SSH_CONNECT_TIMEOUT_S = 5
EXIT_COMMAND_NOT_FOUND = 127
EXIT_SSH_FAILED = 255
EXIT_PYTHON_TOO_OLD = 3
MIN_PYTHON = (3, 9)
MUX_OPTIONS = ("controlmaster", "controlpath", "controlpersist")  # the inventory's own, if any, win
MAX_SOCKET_PATH = 100  # sun_path holds 108 bytes; ssh refuses a longer ControlPath
MASTER_POLL_S = 0.005  # how often libvirt's connection looks for the master's socket

F_SETPIPE_SZ = 1031  # Linux's fcntl (Python has it by name from 3.10 only)
STDIN_PIPE_BYTES = 1 << 20  # /proc/sys/fs/pipe-max-size's default: what any user may set
# Runs on any python3 and refuses an old one; the far side proper needs MIN_PYTHON. Before it
# greets, it widens its stdin pipe to hold the bundle (1.9 MB): with the usual 64 KiB sshd can
# pass the bundle on only as fast as python3 takes it, and the SSH channel's window waits on
# that (50-60 ms of a loaded host's boot, 5-7 ms with the wide pipe). Not a pipe, or a smaller
# limit: the usual one.
FIRST_STAGE = f"""import sys
if sys.version_info < {MIN_PYTHON}:
    sys.stderr.write('migdoctor-far-side: python %d.%d\\n' % sys.version_info[:2])
    sys.exit({EXIT_PYTHON_TOO_OLD})
try:
    import fcntl
    fcntl.fcntl(0, {F_SETPIPE_SZ}, {STDIN_PIPE_BYTES})
except OSError:
    pass
import importlib.util
sys.stdout.buffer.write(b'migdoctor-far-side %s %d.%d\\n' % (importlib.util.MAGIC_NUMBER.hex().encode(), *sys.version_info[:2]))
sys.stdout.buffer.flush()
exec(sys.stdin.buffer.read(int(sys.stdin.buffer.readline())))
"""


class SshTransport(Transport):
    FORM, PREFIX = "ssh://[user@]host[:port]", "ssh://"  # a bare name too: parse_spec's fallback

    @classmethod
    def target(cls, label: str, spec: str) -> tuple[str | None, int | None] | None:
        if not spec.startswith("ssh://"):
            return None
        url = urlsplit(spec)
        if not url.hostname:
            raise TransportError(f"{label}: no host name in {spec!r}")
        try:
            port = url.port
        except ValueError as exc:
            raise TransportError(f"{label}: {exc} in {spec!r}") from None
        return (f"{url.username}@{url.hostname}" if url.username else url.hostname), port

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.mux_dir: str | None = None  # the master's socket and libvirt's ssh wrapper, this run only
        self.mux_lock = threading.Lock()

    @property
    def bootstraps(self) -> bool:
        return self.host.remote_command is None

    def ssh_argv(self) -> list[str]:
        # The inventory's own arguments first: ssh keeps the first value it is given for an option.
        argv = ["ssh", *self.host.ssh_args, "-o", "BatchMode=yes", "-o", f"ConnectTimeout={SSH_CONNECT_TIMEOUT_S}"]
        argv += ["-o", "ServerAliveInterval=5", "-o", "ServerAliveCountMax=3"]
        if self.host.ssh_config:
            argv += ["-F", self.host.ssh_config]
        if self.host.port:
            argv += ["-p", str(self.host.port)]
        return argv

    def remote_argv(self) -> list[str]:
        if self.host.remote_command:
            far_side = [self.host.remote_command, "far-side"]
        else:
            far_side = [self.host.python, "-c", FIRST_STAGE]
        if not self.host.become:
            return far_side
        user = ["-u", self.host.become_user] if self.host.become_user else []
        return ["sudo", "-n", *user, "--", *far_side]

    def far_side_argv(self) -> list[str]:
        return [
            *self.ssh_argv(),
            *self.master_options(),
            "--",
            str(self.host.target),
            "exec " + shlex.join(self.remote_argv()),
        ]

    @property
    def multiplexed(self) -> bool:
        """Whether the far side's connection is made a ControlMaster: not when the inventory's
        ssh_args set multiplexing themselves."""
        return not any(option in argument.lower() for argument in self.host.ssh_args for option in MUX_OPTIONS)

    def master_options(self) -> list[str]:
        if self.mux_dir is None:
            return []
        return ["-o", "ControlMaster=yes", "-o", f"ControlPath={self.control_path()}", "-o", "ControlPersist=no"]

    def control_path(self) -> str:
        assert self.mux_dir is not None
        return os.path.join(self.mux_dir, "master")

    def prepare_master(self) -> None:
        """The private directory for the master's socket, unless its path would be too long."""
        with self.mux_lock:
            if self.mux_dir is None and self.multiplexed:
                self.mux_dir = tempfile.mkdtemp(prefix="migdoctor-ssh-")
                if len(self.control_path()) > MAX_SOCKET_PATH:
                    self.remove_mux_dir()

    def started(self) -> FarSide:
        if self.far_side is None:
            self.prepare_master()
        return super().started()

    def libvirt_route(self) -> str | None:
        """libvirt_uri, through the far side's connection once it is up, when the URI is qemu+ssh
        (or another +ssh) to the same user, host and port: its ssh command (the URI's `command`,
        else ssh) is wrapped to use the master; were the master gone, ssh would connect anew.
        Waits for the master to take sessions (master_up), not for the far side's start, which
        another thread makes: libvirt's connection opens while the far side starts."""
        uri = self.libvirt_uri
        if not uri or not self.multiplexed or not self.same_destination(uri):
            return uri
        if not self.master_up(START_TIMEOUT_S + SSH_CONNECT_TIMEOUT_S):
            return uri
        with self.mux_lock:
            if self.start_error is not None:  # its start failed: that error is the host's answer
                raise TransportError(f"{self.label}: no far side to reach libvirt through")
            if self.mux_dir is None:
                return uri
            wrapper = os.path.join(self.mux_dir, "ssh")
            if not os.path.exists(wrapper):
                command = [
                    uri_command(uri) or "ssh",
                    "-o",
                    f"ControlPath={self.control_path()}",
                    "-o",
                    "ControlMaster=no",
                ]
                with open(os.open(wrapper, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o700), "w") as script:
                    script.write(f'#!/bin/sh\nexec {shlex.join(command)} "$@"\n')
        return with_command(uri, wrapper)

    def master_up(self, timeout_s: float) -> bool:
        """Whether the far side's connection came up within TIMEOUT_S: its master's socket exists
        (OpenSSH binds it once authenticated, before it opens the far side's session, and links it
        under its name only once it listens), or the far side answered or failed to start."""
        deadline = time.monotonic() + timeout_s
        while not self.answered.wait(MASTER_POLL_S):
            if self.mux_dir is not None and os.path.exists(self.control_path()):
                return True
            if time.monotonic() > deadline:
                return False
        return True

    def same_destination(self, uri: str) -> bool:
        url = urlsplit(uri)
        if not url.scheme.endswith("+ssh") or not url.hostname:
            return False
        try:
            port = url.port
        except ValueError:
            return False
        target = f"{url.username}@{url.hostname}" if url.username else url.hostname
        return target == self.host.target and port == self.host.port

    def remove_mux_dir(self) -> None:
        if self.mux_dir is not None:
            shutil.rmtree(self.mux_dir, ignore_errors=True)
            self.mux_dir = None

    def close(self) -> None:
        super().close()
        self.remove_mux_dir()

    def default_libvirt_uri(self) -> str | None:
        port = f":{self.host.port}" if self.host.port else ""
        return f"qemu+ssh://{self.host.target}{port}/system"

    def explain_end(self, status: int, stderr: str) -> str:
        lines = stderr.strip().splitlines()
        last = lines[-1] if lines else f"exit status {status}"
        where = f"{self.label}: {self.host.target}"
        if status == EXIT_SSH_FAILED and lines:
            return f"{self.label}: ssh to {self.host.target} failed: {last}"
        if self.host.become and "password is required" in stderr:
            return (
                f"{where}: sudo asks for a password; become needs passwordless sudo (NOPASSWD) "
                f"for {self.host.python}, or run without become"
            )
        if self.host.become and last.startswith("sudo:"):
            return f"{where}: {last}; become needs a working passwordless sudo"
        too_old = re.search(r"migdoctor-far-side: python (\d+\.\d+)", stderr)
        if status == EXIT_PYTHON_TOO_OLD and too_old:
            return (
                f"{where}: {self.host.python} is Python {too_old[1]}, migdoctor needs 3.9 or newer: "
                "install one there and set python = PATH in the inventory"
            )
        if status == EXIT_COMMAND_NOT_FOUND and self.host.remote_command:
            return f"{where}: {self.host.remote_command!r} is not installed there; remove remote_command from the inventory to use python3 alone"
        if status == EXIT_COMMAND_NOT_FOUND:
            return f"{where}: no {self.host.python} there: install python3 (3.9 or newer) or set python = PATH in the inventory"
        return super().explain_end(status, stderr)


def uri_command(uri: str) -> str | None:
    """The ssh command a libvirt URI names (`?command=`), unescaped as libvirt does (%XX only)."""
    given = [item[len("command=") :] for item in urlsplit(uri).query.split("&") if item.startswith("command=")]
    return unquote(given[-1]) if given else None


def with_command(uri: str, command: str) -> str:
    """URI with `command=COMMAND`; its other parameters as written."""
    url = urlsplit(uri)
    others = [item for item in url.query.split("&") if item and not item.startswith("command=")]
    return urlunsplit(url._replace(query="&".join([*others, f"command={quote(command, safe='/')}"])))
