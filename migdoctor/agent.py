"""The `migdoctor` console script. `migdoctor far-side` serves the far side from this
installation (an inventory's remote_command); everything else goes to the typer CLI, imported
only then so the far side starts fast."""

from __future__ import annotations

import atexit
import os
import sys
import threading
from typing import NoReturn

EXIT_FLUSH_FAILED = 120  # what CPython exits with when stdout cannot be flushed at its end


def main() -> None:
    if sys.argv[1:] == ["far-side"]:
        from migdoctor.farside.server import serve

        serve()
        return
    from migdoctor.cli import app

    try:
        app()
    except SystemExit as exc:  # how typer ends every command
        leave(exc.code)
    except Exception as exc:  # noqa: BLE001 - admins get one line; MIGDOCTOR_DEBUG=1 shows the traceback
        if os.environ.get("MIGDOCTOR_DEBUG"):
            raise
        sys.stderr.write(f"migdoctor: internal error: {type(exc).__name__}: {exc} (MIGDOCTOR_DEBUG=1 shows where)\n")
        sys.exit(2)


def leave(code: object) -> NoReturn:
    """End with CODE (as SystemExit takes it) without the interpreter's teardown, which frees
    every module one by one (30-40 ms of CPU after a `check`, its last step) only for the process's
    end to free them anyway. What the teardown does that matters is done first, as it does it:
    threading's exit hooks run (a thread pool's idle workers told to end) and threads that are not
    daemons are joined (a bundle being written to the cache), then atexit's handlers run, and
    stdout and stderr are flushed."""
    if code is None:
        status = 0
    elif isinstance(code, int):
        status = code
    else:
        sys.stderr.write(f"{code}\n")
        status = 1
    threading._shutdown()  # type: ignore[attr-defined] # the interpreter's first step: idle pools told to end, threads joined
    atexit._run_exitfuncs()
    try:
        sys.stdout.flush()
    except OSError:
        status = status or EXIT_FLUSH_FAILED
    try:
        sys.stderr.flush()
    finally:
        os._exit(status)
