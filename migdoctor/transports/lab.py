"""`lab:HOST`: inside a lab host's namespaces, the far side is this installation's own. The lab
itself is imported only when such a host is reached."""

from __future__ import annotations

import sys

from migdoctor.transports import Transport, TransportError


class LabTransport(Transport):
    FORM, PREFIX = "lab:HOST", "lab:"

    @classmethod
    def target(cls, label: str, spec: str) -> tuple[str | None, int | None] | None:
        return (spec[4:], None) if spec.startswith("lab:") else None

    def far_side_argv(self) -> list[str]:
        from migdoctor.lab import LabError, exec_prefix

        try:
            return [*exec_prefix(str(self.host.target)), sys.executable, "-m", "migdoctor.farside"]
        except LabError as exc:
            raise TransportError(f"{self.label}: {exc}") from None

    def default_libvirt_uri(self) -> str | None:
        from migdoctor.lab import local_libvirt_uri

        return local_libvirt_uri(str(self.host.target))
