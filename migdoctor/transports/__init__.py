"""Reaching a host: a host spec or inventory entry becomes a Host, and fetch_facts returns its facts
record whichever way the host is reached (in-process, over SSH, or inside a lab host)."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlsplit

from migdoctor.transports.inventory import Inventory

REMOTE_TIMEOUT_S = 120
SSH_CONNECT_TIMEOUT_S = 5
EXIT_COMMAND_NOT_FOUND = 127


class TransportError(Exception):
    """A one-line message naming the host and what went wrong reaching it."""


@dataclass(frozen=True)
class Host:
    label: str
    transport: str  # "local", "ssh" or "lab"
    target: str | None = None  # ssh destination [user@]host, or the lab host name
    port: int | None = None
    ssh_config: str | None = None
    remote_command: str = "migdoctor"
    libvirt_uri: str | None = None
    control_path: str | None = None  # an SSH master connection shared by one run's commands
    peer_libvirt_uri: str | None = None  # what other hosts' libvirtd open to migrate here

    @property
    def peer_uri(self) -> str | None:
        """The URI a source's libvirtd opens for a peer-to-peer migration to this host: the
        inventory's peer_libvirt_uri (qemu+tls between hosts, say, while migdoctor uses qemu+ssh),
        else libvirt_uri."""
        return self.peer_libvirt_uri or self.libvirt_uri


def parse_spec(label: str, spec: str, entry: dict[str, Any] | None = None) -> Host:
    """`local`, `ssh://[user@]host[:port]`, `lab:HOST`, or a bare name reached over SSH."""
    entry = entry or {}
    common = {
        "ssh_config": entry.get("ssh_config"),
        "remote_command": entry.get("remote_command", "migdoctor"),
        "libvirt_uri": entry.get("libvirt_uri"),
        "peer_libvirt_uri": entry.get("peer_libvirt_uri"),
    }
    if spec in ("local", "localhost"):
        return Host(label, "local", **common)
    if spec.startswith("lab:"):
        return Host(label, "lab", target=spec[4:], **common)
    if spec.startswith("ssh://"):
        url = urlsplit(spec)
        if not url.hostname:
            raise TransportError(f"{label}: no host name in {spec!r}")
        try:
            port = url.port
        except ValueError as exc:
            raise TransportError(f"{label}: {exc} in {spec!r}") from None
        target = f"{url.username}@{url.hostname}" if url.username else url.hostname
        return Host(label, "ssh", target=target, port=port, **common)
    if "://" in spec:
        raise TransportError(f"{label}: unknown transport in {spec!r} (use local, ssh:// or lab:)")
    return Host(label, "ssh", target=spec, **common)


def resolve_host(name: str, inventory: Inventory) -> Host:
    entry = inventory.hosts.get(name)
    if entry is None:
        return parse_spec(name, name)
    return parse_spec(name, entry.get("transport", f"ssh://{name}"), entry)


@dataclass(frozen=True)
class Lookups:
    """What the caller wants looked up on the host, beyond its own facts."""

    route_to: tuple[str, ...] = ()
    resolve: tuple[str, ...] = ()
    reverse: tuple[str, ...] = ()
    only: bool = False  # the look-ups alone, for a second round

    def arguments(self) -> list[str]:
        argv = ["facts", "--json", *(["--lookups-only"] if self.only else [])]
        for option, values in (("--route-to", self.route_to), ("--resolve", self.resolve), ("--reverse", self.reverse)):
            for value in values:
                argv += [option, value]
        return argv


def ssh_options(host: Host) -> list[str]:
    """The system OpenSSH client, so the admin's ssh_config, keys and jump hosts apply."""
    argv = ["ssh", "-o", "BatchMode=yes", "-o", f"ConnectTimeout={SSH_CONNECT_TIMEOUT_S}"]
    if host.ssh_config:
        argv += ["-F", host.ssh_config]
    if host.port:
        argv += ["-p", str(host.port)]
    if host.control_path:  # the master outlives a killed run by 60 s at most
        argv += ["-o", "ControlMaster=auto", "-o", f"ControlPath={host.control_path}", "-o", "ControlPersist=60"]
    return argv


def ssh_argv(host: Host, remote_argv: list[str]) -> list[str]:
    return [*ssh_options(host), "--", str(host.target), shlex.join(remote_argv)]


@contextmanager
def shared_connections(hosts: list[Host]) -> Iterator[list[Host]]:
    """One SSH connection per host for the whole run instead of one per command; closed at the
    end, its socket directory removed, so nothing outlives the run."""
    directory = tempfile.mkdtemp(prefix="migdoctor-ssh-")
    shared = [
        replace(host, control_path=f"{directory}/{index}") if host.transport == "ssh" else host
        for index, host in enumerate(hosts)
    ]
    try:
        yield shared
    finally:
        for host in shared:
            if host.control_path and os.path.exists(host.control_path):
                subprocess.run(
                    [*ssh_options(host), "-O", "exit", "--", str(host.target)],
                    capture_output=True,
                    timeout=SSH_CONNECT_TIMEOUT_S,
                    check=False,
                )
        shutil.rmtree(directory, ignore_errors=True)


def command_argv(host: Host, migdoctor_args: list[str]) -> list[str]:
    """argv that runs `migdoctor ARGS` on HOST: here, over SSH, or inside a lab host."""
    if host.transport == "ssh":
        return ssh_argv(host, [host.remote_command, *migdoctor_args])
    here = [sys.executable, "-m", "migdoctor", *migdoctor_args]
    if host.transport == "lab":
        from migdoctor.lab import exec_prefix

        return exec_prefix(str(host.target)) + here
    return here


def run_agent(host: Host, argv: list[str]) -> dict[str, Any]:
    """Run a machine command (migdoctor/agent.py) on HOST and return the JSON it prints last."""
    command = command_argv(host, argv)
    try:
        result = subprocess.run(
            command, capture_output=True, text=True, timeout=REMOTE_TIMEOUT_S, stdin=subprocess.DEVNULL
        )
    except subprocess.TimeoutExpired:
        raise TransportError(f"{host.label}: no answer to '{argv[0]}' after {REMOTE_TIMEOUT_S} s") from None
    except FileNotFoundError as exc:
        raise TransportError(f"{host.label}: {exc.filename} is not installed here") from None
    stderr_tail = result.stderr.strip().splitlines()[-1:] or [""]
    if result.returncode == EXIT_COMMAND_NOT_FOUND and host.transport == "ssh":
        raise TransportError(
            f"{host.label}: {host.remote_command!r} is not installed there: run "
            f"'pip install migdoctor' on {host.target}, or set remote_command in the inventory"
        )
    if result.returncode == 255 and host.transport == "ssh":
        raise TransportError(f"{host.label}: ssh to {host.target} failed: {stderr_tail[0]}")
    if result.returncode != 0:
        raise TransportError(f"{host.label}: '{argv[0]}' exited {result.returncode}: {stderr_tail[0]}")
    lines = result.stdout.strip().splitlines()
    try:
        return json.loads(lines[-1] if lines else "")
    except json.JSONDecodeError as exc:
        raise TransportError(f"{host.label}: '{argv[0]}' output is not JSON ({exc.msg})") from None


def fetch_facts(host: Host, lookups: Lookups) -> dict[str, Any]:
    if host.transport == "local":
        from migdoctor.facts import collect

        return collect(lookups.route_to, lookups.resolve, lookups.reverse, lookups.only)
    return run_agent(host, lookups.arguments())
