# Copyright: (c) migdoctor contributors
# MIT License (see LICENSE)
"""migdoctor.fleet.peer_lookup_facts on the control node: `check`'s second round for one host.
Its look-ups aimed at its peers are planned from every host's first-round record (the fact
migdoctor, in hostvars) as `check --all` over these hosts plans them, made in one look-ups-only
call on the host, and added to the host's record. The module file of the same name carries the
documentation."""

from __future__ import annotations

from typing import Any

from ansible.errors import AnsibleActionFail

from ansible_collections.migdoctor.fleet.plugins.plugin_utils.control_node import CollectingAction, require_migdoctor

ARGUMENT_SPEC = {
    "peers": {"type": "list", "elements": "str", "required": True},
}


class ActionModule(CollectingAction):
    def run(self, tmp: Any = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        result = super().run(tmp, task_vars)
        task_vars = task_vars or {}
        dummy, args = self.validate_argument_spec(ARGUMENT_SPEC)
        require_migdoctor()
        from migdoctor.run.lookups import lookups_among, merge_lookups
        from migdoctor.transports.ansible_connection import first_rounds
        from migdoctor.transports.inventory_data import InventoryError

        label = task_vars["inventory_hostname"]
        try:
            records, inventory, warnings = first_rounds(label, args["peers"], task_vars["hostvars"])
            wanted = lookups_among(label, records, inventory)
        except (InventoryError, ValueError) as exc:
            raise AnsibleActionFail(str(exc)) from None
        if warnings:
            result["warnings"] = warnings
        record = records[label]
        if wanted.route_to or wanted.resolve or wanted.reverse:
            record = merge_lookups(record, self.collect(task_vars, wanted))
        result["ansible_facts"] = {"migdoctor": record}
        return result
