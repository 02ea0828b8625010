"""The far side over an Ansible connection, for the migdoctor.fleet collection's action plugin:
Ansible's connection plugin, its become and its ssh settings reach the host, and this control
node sends the same bundle and asks libvirt itself, as for ssh://. Ansible runs a command with
all its input given at once and hands back the output when it has ended, so a call is one far
side that answers before it exits (`--answer-all`), after one round that learns the host's
Python (its greeting) so the bundle can be bytecode for it."""

from __future__ import annotations

import json
import shlex
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from migdoctor.farside.server import ANSWER_ALL
from migdoctor.transports import Host, Lookups, TransportError, fetch_facts, parse_spec, transport_for
from migdoctor.transports.ansible_inventory import from_ansible, host_entry
from migdoctor.transports.inventory_data import Inventory, checked
from migdoctor.transports.session import Stream, boot_input, decoded
from migdoctor.transports.ssh import FIRST_STAGE, SshTransport

# A shell command and its whole stdin -> exit status, stdout, stderr (ActionBase's
# _low_level_execute_command: become applied, stdout decoded).
Runner = Callable[[str, bytes], tuple[int, str, str]]
GREETING_ONLY = b"0\n"  # an empty second stage: the first stage greets and ends


class AnsibleTransport(SshTransport):
    """Messages for a missing or old python3 are the ssh transport's; the command is Ansible's to run."""

    def __init__(self, host: Host, run: Runner) -> None:
        super().__init__(host)
        self.run = run
        self.greeting: bytes | None = None

    def far_side_argv(self) -> list[str]:
        return [self.host.python, "-c", FIRST_STAGE, ANSWER_ALL]

    @property
    def multiplexed(self) -> bool:
        """Ansible's connection is no ssh master libvirt could ride on."""
        return False

    def output(self, stdin: bytes) -> list[str]:
        status, stdout, stderr = self.run(shlex.join(self.far_side_argv()), stdin)
        if status != 0:
            raise TransportError(self.explain_end(status, stderr))
        return stdout.splitlines()

    def call(self, name: str, /, **args: Any) -> Any:
        from migdoctor.transports.bundle import bundle

        if self.greeting is None:
            self.greeting = next(iter(self.output(GREETING_ONLY)), "").encode()
        request = json.dumps({"id": 1, "call": name, "args": args}).encode() + b"\n"
        for line in self.output(boot_input(self.label, self.greeting, bundle) + request):
            if line.startswith('{"id"'):
                answer = decoded(self.label, line)
                if "error" in answer:
                    raise TransportError(f"{self.label}: far-side {name!r} failed: {answer['error']}")
                return answer["result"]
        raise TransportError(f"{self.label}: the far side ended without answering {name!r}")

    def stream(self, name: str, /, **args: Any) -> Stream:
        raise TransportError(f"{self.label}: {name!r} streams, which needs a live connection, not Ansible's")


def ansible_host(label: str, hostvars: Mapping[str, Any]) -> Host:
    """LABEL as migdoctor reads it from an Ansible inventory (the same python and libvirt URI as
    `migdoctor facts LABEL -i INVENTORY`), become left to Ansible's own."""
    entry, _ = host_entry("task vars", label, hostvars)
    host = parse_spec(label, entry["transport"], entry)
    return replace(host, become=False, become_user=None, libvirt_uri=transport_for(host).libvirt_uri)


def gather_facts(label: str, hostvars: Mapping[str, Any], run: Runner, lookups: Lookups) -> dict[str, Any]:
    """LABEL's facts record, reached through RUN, admitted by the facts schema as every record is."""
    return fetch_facts(AnsibleTransport(ansible_host(label, hostvars), run), lookups)


def first_rounds(
    label: str, peers: list[str], hostvars: Mapping[str, Mapping[str, Any]]
) -> tuple[dict[str, dict[str, Any]], Inventory, list[str]]:
    """For the second round on LABEL: the first-round records (the fact migdoctor in HOSTVARS) of
    LABEL and PEERS as plain data, the hosts' entries read from their variables as an Ansible
    inventory's are, and a warning for each peer without a record that passes the facts schema
    (it gets no pairs). LABEL without one: ValueError."""
    from migdoctor.schemas import facts_problem

    records: dict[str, dict[str, Any]] = {}
    warnings = []
    for name in dict.fromkeys([label, *peers]):
        found = (hostvars[name].get("ansible_facts") or {}).get("migdoctor") if name in hostvars else None
        record = None if found is None else plain(found)
        problem = "no first-round record (the fact migdoctor)" if record is None else facts_problem(record)
        if record is not None and not problem:
            records[name] = record
        elif name == label:
            raise ValueError(
                f"{label}: {problem}: run migdoctor.fleet.host_facts on every host first "
                "(the playbook migdoctor.fleet.gather_facts does)"
            )
        else:
            warnings.append(f"{name}: {problem}: its pairs with {label} are not planned")
    where = "the play's host variables"
    document, origins = from_ansible({"_meta": {"hostvars": {name: hostvars[name] for name in records}}}, where)
    return records, checked(plain(document), where, origins), warnings


def plain(value: Any) -> Any:
    """VALUE as plain JSON data: Ansible hands variables back as its own tagged types, which the
    compiled schema validator refuses."""
    return json.loads(json.dumps(value))
