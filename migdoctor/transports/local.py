"""This machine. Calls run in this process (no second interpreter to start); a stream, which must
run beside other calls, gets this installation's far side in a child process."""

from __future__ import annotations

import sys
from typing import Any

from migdoctor.transports import Transport, TransportError


class LocalTransport(Transport):
    FORM = PREFIX = "local"

    @classmethod
    def target(cls, label: str, spec: str) -> tuple[str | None, int | None] | None:
        return (None, None) if spec in ("local", "localhost") else None

    def far_side_argv(self) -> list[str]:
        return [sys.executable, "-m", "migdoctor.farside"]

    def default_libvirt_uri(self) -> str | None:
        return "qemu:///system"

    def call(self, name: str, /, **args: Any) -> Any:
        from migdoctor.farside import commands

        found = commands.COMMANDS.get(name)
        if found is None or found.streams:
            return super().call(name, **args)
        try:
            return found.function(**args)
        except Exception as exc:  # noqa: BLE001 - said as a far side says it
            raise TransportError(f"{self.label}: far-side {name!r} failed: {type(exc).__name__}: {exc}") from None

    def close(self) -> None:
        from migdoctor.farside import commands

        commands.remove_leftovers()
        super().close()
