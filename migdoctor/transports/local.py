"""This machine: the far side is this installation's own, in a child process."""

from __future__ import annotations

import sys

from migdoctor.transports import Transport


class LocalTransport(Transport):
    def far_side_argv(self) -> list[str]:
        return [sys.executable, "-m", "migdoctor.farside"]

    def default_libvirt_uri(self) -> str | None:
        return "qemu:///system"
