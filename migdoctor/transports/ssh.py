"""`ssh://[user@]host[:port]`: the system OpenSSH client (the admin's ssh_config, keys and
ProxyJump apply), one connection per host per run. Nothing needs to be installed there: the
host's python3 (3.9 or newer, standard library only) runs a first stage given on its command
line, which receives the second stage and the bundle over the same connection."""

from __future__ import annotations

import re
import shlex

from migdoctor.transports import Transport

SSH_CONNECT_TIMEOUT_S = 5
EXIT_COMMAND_NOT_FOUND = 127
EXIT_SSH_FAILED = 255
EXIT_PYTHON_TOO_OLD = 3
MIN_PYTHON = (3, 9)

# Runs on any python3 and refuses an old one; the far side proper needs MIN_PYTHON.
FIRST_STAGE = f"""import sys
if sys.version_info < {MIN_PYTHON}:
    sys.stderr.write('migdoctor-far-side: python %d.%d\\n' % sys.version_info[:2])
    sys.exit({EXIT_PYTHON_TOO_OLD})
import importlib.util
sys.stdout.buffer.write(b'migdoctor-far-side %s %d.%d\\n' % (importlib.util.MAGIC_NUMBER.hex().encode(), *sys.version_info[:2]))
sys.stdout.buffer.flush()
exec(sys.stdin.buffer.read(int(sys.stdin.buffer.readline())))
"""


class SshTransport(Transport):
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
        return [*self.ssh_argv(), "--", str(self.host.target), "exec " + shlex.join(self.remote_argv())]

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
