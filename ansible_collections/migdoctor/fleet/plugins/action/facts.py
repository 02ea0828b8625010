# Copyright: (c) migdoctor contributors
# MIT License (see the repository's pyproject.toml)
"""migdoctor.fleet.facts on the control node: migdoctor (installed in the Python that runs
Ansible) sends its far side through the task's connection, asks libvirt through the host's
libvirt URI, and returns the facts record (saved as DEST/HOST.json when asked). With peers, it is
`check`'s second round instead: the host's look-ups aimed at its peers, planned from every host's
first-round record (the fact migdoctor, in hostvars), added to the host's own record. The module
file beside it carries the documentation."""

from __future__ import annotations

import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

if TYPE_CHECKING:
    from migdoctor.transports import Lookups

ARGUMENT_SPEC = {
    "dest": {"type": "path"},
    "route_to": {"type": "list", "elements": "str", "default": []},
    "resolve": {"type": "list", "elements": "str", "default": []},
    "reverse": {"type": "list", "elements": "str", "default": []},
    "peers": {"type": "list", "elements": "str", "default": []},
}


class Templated(Mapping):
    """The task's variables, each templated when read: the inventory may give ansible_host as
    a template, and only the variables migdoctor reads are evaluated."""

    def __init__(self, variables: Mapping[str, Any], templar: Any) -> None:
        self.variables, self.templar = variables, templar

    def __getitem__(self, name: str) -> Any:
        return self.templar.template(self.variables[name])

    def __iter__(self) -> Iterator[str]:
        return iter(self.variables)

    def __len__(self) -> int:
        return len(self.variables)


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _supports_check_mode = True

    def run(self, tmp: Any = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        result = super().run(tmp, task_vars)
        task_vars = task_vars or {}
        _, args = self.validate_argument_spec(ARGUMENT_SPEC)
        try:
            from migdoctor.report.json_writer import facts_json
            from migdoctor.report.output import OutputError, write_atomically
            from migdoctor.transports import Lookups, TransportError
            from migdoctor.transports.ansible_connection import gather_facts
            from migdoctor.transports.inventory import InventoryError
        except ImportError as exc:
            raise AnsibleActionFail(
                f"migdoctor is not installed in the Python that runs Ansible ({sys.executable}): "
                f"pip install 'migdoctor[ansible]' there ({exc})"
            ) from None
        label = task_vars["inventory_hostname"]
        if Path(label).name != label or label.startswith("."):
            raise AnsibleActionFail(f"{label}: not usable as a file name for DEST/HOST.json")
        lookups = Lookups(tuple(args["route_to"]), tuple(args["resolve"]), tuple(args["reverse"]))
        host = Templated(task_vars, self._templar)
        try:
            if args["peers"]:
                record = self.peer_round(label, args["peers"], task_vars["hostvars"], host, lookups, result)
            else:
                record = gather_facts(label, host, self.execute, lookups)
        except (InventoryError, TransportError, ValueError) as exc:
            raise AnsibleActionFail(str(exc)) from None
        result["ansible_facts"] = {"migdoctor": record}
        if args["dest"]:
            path = Path(args["dest"]) / f"{label}.json"
            if not self._task.check_mode:
                try:
                    write_atomically(path, facts_json(record))
                except OutputError as exc:
                    raise AnsibleActionFail(str(exc)) from None
            result.update(changed=True, dest=str(path))
        return result

    def peer_round(
        self,
        label: str,
        peers: list[str],
        hostvars: Mapping[str, Any],
        host: Mapping[str, Any],
        lookups: Lookups,
        result: dict[str, Any],
    ) -> dict[str, Any]:
        """LABEL's first-round record with its look-ups aimed at PEERS added: one look-ups-only
        call on the host, planned as `check --all` over LABEL and PEERS plans it. A peer without a
        first-round record (not reached) has no pairs; LABEL without one is an error."""
        from migdoctor.run.lookups import batched, lookups_among, merge_lookups
        from migdoctor.transports.ansible_connection import first_rounds, gather_facts

        records, inventory, warnings = first_rounds(label, peers, hostvars)
        if warnings:
            result["warnings"] = warnings
        wanted = batched([lookups_among(label, records, inventory), lookups])
        if not (wanted.route_to or wanted.resolve or wanted.reverse):
            return records[label]
        return merge_lookups(records[label], gather_facts(label, host, self.execute, wanted))

    def execute(self, command: str, stdin: bytes) -> tuple[int, str, str]:
        """COMMAND on the host with STDIN, under the task's become."""
        done = self._low_level_execute_command(command, sudoable=True, in_data=stdin)
        return done["rc"], done["stdout"], done["stderr"]
