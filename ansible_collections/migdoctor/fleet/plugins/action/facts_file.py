# Copyright: (c) migdoctor contributors
# MIT License (see LICENSE)
"""migdoctor.fleet.facts_file on the control node: a host's facts record, admitted by migdoctor's
facts schema, saved as DEST/HOST.json as `migdoctor facts HOST --json` prints it, for
`migdoctor check --facts-dir DEST`. The module file of the same name carries the documentation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

from ansible_collections.migdoctor.fleet.plugins.plugin_utils.control_node import require_migdoctor

ARGUMENT_SPEC = {
    "record": {"type": "dict", "required": True},
    "dest": {"type": "path", "required": True},
}


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _supports_check_mode = True

    def run(self, tmp: Any = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        result = super().run(tmp, task_vars)
        task_vars = task_vars or {}
        dummy, args = self.validate_argument_spec(ARGUMENT_SPEC)
        require_migdoctor()
        from migdoctor.report.json_writer import facts_json
        from migdoctor.report.output import OutputError, write_atomically
        from migdoctor.schemas import facts_problem
        from migdoctor.transports.ansible_connection import plain

        label = task_vars["inventory_hostname"]
        if Path(label).name != label or label.startswith("."):
            raise AnsibleActionFail(f"{label}: not usable as a file name for DEST/HOST.json")
        record = plain(args["record"])
        problem = facts_problem(record)
        if problem:
            raise AnsibleActionFail(f"{label}: {problem}")
        path = Path(args["dest"]) / f"{label}.json"
        text = facts_json(record)
        try:
            changed = not path.is_file() or path.read_text(encoding="utf-8") != text
        except OSError as exc:
            raise AnsibleActionFail(f"{path}: cannot read it: {exc.strerror}") from None
        if changed and not self._task.check_mode:
            try:
                write_atomically(path, text)
            except OutputError as exc:
                raise AnsibleActionFail(str(exc)) from None
        result.update(changed=changed, dest=str(path))
        return result
