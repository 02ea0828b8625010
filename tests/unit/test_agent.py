"""The console script's end: without the interpreter's teardown, but with what it does that
matters (a pool's idle workers ended, threads that are not daemons joined, atexit's handlers run,
output flushed, the status)."""

import subprocess
import sys
from pathlib import Path

import pytest

LEAVES = """
import atexit, sys, threading, time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from migdoctor.agent import leave

out = Path(sys.argv[1])
def write_late():
    time.sleep(0.3)
    out.write_text("written")
threading.Thread(target=write_late).start()
idle = ThreadPoolExecutor(1)  # never shut down: its worker waits for work until told to end
idle.submit(print, end="").result()
atexit.register(lambda: sys.stdout.write("atexit ran\\n"))
sys.stdout.write("buffered, not flushed\\n")
leave(eval(sys.argv[2]))
"""


@pytest.mark.parametrize(("code", "status"), [("None", 0), ("0", 0), ("3", 3), ("'a message'", 1)])
def test_leave_waits_for_threads_runs_atexit_flushes_and_exits_with_the_code(tmp_path: Path, code: str, status: int):
    done = subprocess.run(
        [sys.executable, "-c", LEAVES, str(tmp_path / "late"), code], capture_output=True, text=True, timeout=30
    )
    assert done.returncode == status
    assert (tmp_path / "late").read_text() == "written"
    assert done.stdout == "buffered, not flushed\natexit ran\n"
    assert done.stderr == ("a message\n" if status == 1 else "")
