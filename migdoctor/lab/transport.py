"""`lab:HOST`: inside a lab host's namespaces, the far side is this installation's own."""

from __future__ import annotations

import sys

from migdoctor.lab import LabError, exec_prefix, local_libvirt_uri
from migdoctor.transports import Transport, TransportError


class LabTransport(Transport):
    def far_side_argv(self) -> list[str]:
        try:
            return [*exec_prefix(str(self.host.target)), sys.executable, "-m", "migdoctor.farside"]
        except LabError as exc:
            raise TransportError(f"{self.label}: {exc}") from None

    def default_libvirt_uri(self) -> str | None:
        return local_libvirt_uri(str(self.host.target))
