# Copyright: (c) migdoctor contributors
# MIT License (see LICENSE)
"""migdoctor.fleet.host_facts on the control node: migdoctor (installed in the Python that runs
Ansible) sends its far side through the task's connection, asks libvirt through the host's
libvirt URI, and returns the host's facts record as the fact migdoctor. The module file of the
same name carries the documentation."""

from __future__ import annotations

from typing import Any

from ansible_collections.migdoctor.fleet.plugins.plugin_utils.control_node import CollectingAction, require_migdoctor

ARGUMENT_SPEC = {
    "route_to": {"type": "list", "elements": "str", "default": []},
    "resolve": {"type": "list", "elements": "str", "default": []},
    "reverse": {"type": "list", "elements": "str", "default": []},
}


class ActionModule(CollectingAction):
    def run(self, tmp: Any = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        result = super().run(tmp, task_vars)
        task_vars = task_vars or {}
        dummy, args = self.validate_argument_spec(ARGUMENT_SPEC)
        require_migdoctor()
        from migdoctor.transports import Lookups

        lookups = Lookups(tuple(args["route_to"]), tuple(args["resolve"]), tuple(args["reverse"]))
        result["ansible_facts"] = {"migdoctor": self.collect(task_vars, lookups)}
        return result
