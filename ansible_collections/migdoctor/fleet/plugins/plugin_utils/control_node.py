# Copyright: (c) migdoctor contributors
# MIT License (see LICENSE)
"""What the collection's action plugins share on the control node: migdoctor imported from the
Python that runs Ansible (one line naming that Python when it is not there), the task's
variables as migdoctor reads an inventory's, and the host reached through the task's connection."""

from __future__ import annotations

import sys
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

if TYPE_CHECKING:
    from migdoctor.transports import Lookups


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


def require_migdoctor() -> None:
    """migdoctor's collecting code runs here, on the control node: without it, one line saying where to install it."""
    try:
        import migdoctor.transports  # noqa: F401  # pylint: disable=unused-import
    except ImportError as exc:
        raise AnsibleActionFail(
            f"migdoctor is not installed in the Python that runs Ansible ({sys.executable}): "
            f"pip install 'migdoctor[ansible]' there ({exc})"
        ) from None


class CollectingAction(ActionBase):
    """An action that asks the host for (part of) its facts record: reads only, so check mode is full."""

    TRANSFERS_FILES = False
    _supports_check_mode = True

    def collect(self, task_vars: Mapping[str, Any], lookups: Lookups) -> dict[str, Any]:
        """The host's facts record (with LOOKUPS), reached through the task's connection."""
        from migdoctor.transports import TransportError
        from migdoctor.transports.ansible_connection import gather_facts
        from migdoctor.transports.inventory_data import InventoryError

        host = Templated(task_vars, self._templar)
        try:
            return gather_facts(task_vars["inventory_hostname"], host, self.execute, lookups)
        except (InventoryError, TransportError, ValueError) as exc:
            raise AnsibleActionFail(str(exc)) from None

    def execute(self, command: str, stdin: bytes) -> tuple[int, str, str]:
        """COMMAND on the host with STDIN, under the task's become."""
        done = self._low_level_execute_command(command, sudoable=True, in_data=stdin)
        return done["rc"], done["stdout"], done["stderr"]
