"""Reaching a host: a host spec or inventory entry becomes a Host; a Transport (one class per way
of reaching hosts, registered by name below, as testinfra's backends are) starts the far side
there and carries calls to it. fetch_facts returns a host's facts record whichever way it is
reached; what only libvirt knows is asked from here, through the host's libvirt URI."""

from __future__ import annotations

import importlib
import signal
import threading
from abc import ABC, abstractmethod
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, ClassVar

from migdoctor.transports.errors import TransportError
from migdoctor.transports.inventory_data import Inventory
from migdoctor.transports.session import FarSide, Stream

if TYPE_CHECKING:
    from migdoctor.facts.guests import GuestAsk

__all__ = ["Host", "Lookups", "Transport", "TransportError", "fetch_facts", "open_transports", "resolve_host"]

# Way of reaching a host -> the class doing it, which owns its spec form (FORM, target()). A new
# way is one module and one line here; the lab transport imports the lab only when it is used.
TRANSPORTS = {
    "local": "migdoctor.transports.local:LocalTransport",
    "ssh": "migdoctor.transports.ssh:SshTransport",
    "lab": "migdoctor.transports.lab:LabTransport",
}


@dataclass(frozen=True)
class Host:
    label: str
    transport: str  # a key of TRANSPORTS
    target: str | None = None  # ssh destination [user@]host, or the lab host name
    port: int | None = None
    ssh_config: str | None = None
    ssh_args: tuple[str, ...] = ()  # more ssh arguments, ahead of migdoctor's (Ansible's ssh args)
    remote_command: str | None = None  # an installed migdoctor there; default: nothing installed
    python: str = "python3"
    become: bool = False
    become_user: str | None = None
    libvirt_uri: str | None = None
    peer_libvirt_uri: str | None = None  # what other hosts' libvirtd open to migrate here

    @property
    def peer_uri(self) -> str | None:
        """The URI a source's libvirtd opens for a peer-to-peer migration to this host: the
        inventory's peer_libvirt_uri (qemu+tls between hosts, say, while migdoctor uses qemu+ssh),
        else libvirt_uri."""
        return self.peer_libvirt_uri or self.libvirt_uri

    @property
    def spec(self) -> str:
        return self.transport if self.target is None else f"{self.transport}:{self.target}"


def parse_spec(label: str, spec: str, entry: dict[str, Any] | None = None) -> Host:
    """SPEC in the form of one of TRANSPORTS (each class's FORM), else a bare name reached over SSH."""
    entry = entry or {}
    common: dict[str, Any] = {
        key: entry[key]
        for key in (
            "ssh_config",
            "remote_command",
            "python",
            "become",
            "become_user",
            "libvirt_uri",
            "peer_libvirt_uri",
        )
        if key in entry
    }
    if "ssh_args" in entry:
        common["ssh_args"] = tuple(entry["ssh_args"])
    for name in TRANSPORTS:
        found = transport_class(name).target(label, spec)
        if found is not None:
            return Host(label, name, *found, **common)
    if "://" in spec:
        *others, last = (transport_class(name).PREFIX for name in TRANSPORTS)
        raise TransportError(f"{label}: unknown transport in {spec!r} (use {', '.join(others)} or {last})")
    return Host(label, "ssh", target=spec, **common)


def transport_class(name: str) -> type[Transport]:
    module, _, attribute = TRANSPORTS[name].partition(":")
    cls: type[Transport] = getattr(importlib.import_module(module), attribute)
    return cls


def host_forms() -> list[str]:
    """The forms a host is given in, for help and errors: each way's own, between an inventory
    name and a bare name (reached over SSH)."""
    return ["an inventory name", *(transport_class(name).FORM for name in TRANSPORTS), "a bare name (SSH)"]


def resolve_host(name: str, inventory: Inventory, become: bool = False) -> Host:
    """NAME's inventory entry, else NAME as a spec; `become` (--become) overrides the entry's."""
    entry = inventory.hosts.get(name)
    host = parse_spec(name, name) if entry is None else parse_spec(name, entry.get("transport", f"ssh://{name}"), entry)
    return replace(host, become=True) if become else host


@dataclass(frozen=True)
class Lookups:
    """What the caller wants looked up on the host, beyond its own facts."""

    route_to: tuple[str, ...] = ()
    resolve: tuple[str, ...] = ()
    reverse: tuple[str, ...] = ()
    only: bool = False  # the look-ups alone, for a second round

    def arguments(self) -> dict[str, Any]:
        return {
            "route_to": list(self.route_to),
            "resolve": list(self.resolve),
            "reverse": list(self.reverse),
            "lookups_only": self.only,
        }


class Transport(ABC):
    """One way of reaching a host. A subclass says how a host spec names it (FORM, target()) and
    how the far side starts there; running a far-side call, streaming one and closing are the same
    for all. The far side starts at the first call and serves every call of the run."""

    FORM: ClassVar[str]  # how a host spec names this way, as help shows it
    PREFIX: ClassVar[str]  # what tells the form, as an error names it

    @classmethod
    def target(cls, label: str, spec: str) -> tuple[str | None, int | None] | None:
        """(target, port) when SPEC is in this way's form, else None; TransportError naming LABEL
        when it is this way's but wrong. A way no spec names (a test's) keeps this."""
        return None

    def __init__(self, host: Host) -> None:
        self.host = host
        self.lock = threading.Lock()
        self.far_side: FarSide | None = None
        self.start_error: str | None = None
        self.spawned = threading.Event()  # the far side's process runs, or could not start
        # Its first line came (the connection carrying it is up, the rest of its start goes on), or its start ended.
        self.answered = threading.Event()

    @property
    def label(self) -> str:
        return self.host.label

    @property
    def libvirt_uri(self) -> str | None:
        return self.host.libvirt_uri or self.default_libvirt_uri()

    @property
    def peer_uri(self) -> str | None:
        """The URI other hosts' libvirtd open to migrate here (see Host.peer_uri)."""
        return self.host.peer_libvirt_uri or self.libvirt_uri

    @property
    def bootstraps(self) -> bool:
        """True when the host has no migdoctor: boot stage and bundle go to its bare python3."""
        return False

    @abstractmethod
    def far_side_argv(self) -> list[str]:
        """The command that starts the far side and talks over its stdin/stdout."""

    def default_libvirt_uri(self) -> str | None:
        return None

    def libvirt_route(self) -> str | None:
        """The URI to open for libvirt's part of the facts: libvirt_uri, or a way to it that
        this transport's own connection offers (ssh.py)."""
        return self.libvirt_uri

    def explain_end(self, status: int, stderr: str) -> str:
        """One line for a far side that ended on its own: what happened and what to do."""
        last = stderr.strip().splitlines()[-1:] or [f"exit status {status}"]
        return f"{self.label}: the far side ended unexpectedly ({last[0]}); run again, or check the host"

    def started(self) -> FarSide:
        """The run's far side, started at the first call; a far side that could not start fails
        every later call of the run with the same line, never a second attempt. The bundle for a
        host like this one is made once the process is spawned, while it connects."""
        with self.lock:
            if self.start_error is not None:
                raise TransportError(self.start_error)
            if self.far_side is None:
                from migdoctor.transports.bundle import bundle, make_ahead

                def spawned() -> None:
                    if self.bootstraps:
                        make_ahead()
                    self.spawned.set()

                try:
                    self.far_side = FarSide(
                        self.label,
                        self.far_side_argv(),
                        self.explain_end,
                        bundle if self.bootstraps else None,
                        spawned,
                        self.answered.set,
                    )
                except TransportError as exc:
                    self.start_error = str(exc)
                    raise
                finally:
                    self.spawned.set()
                    self.answered.set()
            return self.far_side

    def call(self, name: str, /, **args: Any) -> Any:
        """Run far-side command NAME (migdoctor/farside/commands.py) and return its answer."""
        return self.started().call(name, **args)

    def stream(self, name: str, /, **args: Any) -> Stream:
        """Start streaming far-side command NAME; closing the stream (or its `with`) cancels it."""
        return self.started().stream(name, **args)

    def hang_up(self) -> None:
        """Tell the far side the run is over, without waiting for it to go."""
        if self.far_side is not None:
            self.far_side.hang_up()

    def close(self) -> None:
        with self.lock:
            if self.far_side is not None:
                self.far_side.close()
                self.far_side = None


def transport_for(host: Host) -> Transport:
    return transport_class(host.transport)(host)


@contextmanager
def open_transports(hosts: list[Host]) -> Iterator[list[Transport]]:
    """A transport per host for one run; closed at the end whatever happens, SIGTERM included
    (it ends the run like Ctrl-C), so no far side, ssh process or file outlives the run."""
    transports = [transport_for(host) for host in hosts]
    with ExitStack() as stack:
        for transport in transports:
            stack.callback(transport.close)
        for transport in transports:  # runs first: every far side ends at once
            stack.callback(transport.hang_up)
        if threading.current_thread() is threading.main_thread():
            previous = signal.signal(signal.SIGTERM, interrupt)
            stack.callback(signal.signal, signal.SIGTERM, previous)
        yield transports


def interrupt(_signum: int, _frame: Any) -> None:
    raise KeyboardInterrupt


def fetch_facts(transport: Transport, lookups: Lookups, guests: GuestAsk | None = None) -> dict[str, Any]:
    """The host's facts record: the far side collects, libvirt is asked from here at the same time
    (with the guest parts GUESTS asks for, when the run asks for guests). The far side's answer
    is admitted only when it matches the facts schema: a far host can send anything (another
    migdoctor version, a wrapper's output)."""
    from migdoctor.facts.libvirt import add_libvirt, libvirt_facts
    from migdoctor.schemas import facts_problem

    def libvirt_part() -> tuple[dict[str, Any] | None, str | None, dict[str, Any]]:
        return libvirt_facts(transport.libvirt_uri, transport.libvirt_route(), guests)

    with ThreadPoolExecutor(1) as pool:
        libvirt = None if lookups.only else pool.submit(libvirt_part)
        record = transport.call("facts", **lookups.arguments())
        problem = facts_problem(record, lookups.only)
        if problem:
            raise TransportError(f"{transport.label}: {problem}")
        if libvirt is None:
            return record
        record = add_libvirt(record, *libvirt.result())
        if record.get("guests"):
            add_resident_ram(transport, record["guests"])
        return record


def add_resident_ram(transport: Transport, guests: list[dict[str, Any]]) -> None:
    """Each guest's memory in use from the resident part of its RAM mapping, which only the host
    can read (far-side `guest-ram`); a far side that cannot tell leaves libvirt's figure."""
    from migdoctor.facts.dirtyrate import with_resident

    try:
        resident = transport.call(
            "guest-ram", guests=[{"name": g["name"], "memory_kib": g["memory_kib"]} for g in guests]
        )
    except TransportError:
        return
    for entry in guests:
        with_resident(entry, resident.get(entry["name"]))
