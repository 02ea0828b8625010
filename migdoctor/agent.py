"""The `migdoctor` console script. `migdoctor far-side` serves the far side from this
installation (an inventory's remote_command); everything else goes to the typer CLI, imported
only then so the far side starts fast."""

from __future__ import annotations

import os
import sys


def main() -> None:
    if sys.argv[1:] == ["far-side"]:
        from migdoctor.farside.server import serve

        serve()
        return
    from migdoctor.cli import app

    try:
        app()
    except Exception as exc:  # noqa: BLE001 - admins get one line; MIGDOCTOR_DEBUG=1 shows the traceback
        if os.environ.get("MIGDOCTOR_DEBUG"):
            raise
        sys.stderr.write(f"migdoctor: internal error: {type(exc).__name__}: {exc} (MIGDOCTOR_DEBUG=1 shows where)\n")
        sys.exit(2)
