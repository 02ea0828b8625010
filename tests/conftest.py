"""migdoctor as users install it: the sdist and the wheel built from it (as `python -m build` does,
every Python warning an error, so a deprecated setting fails the build), once per session, and
.venv-wheel, a venv of its own where that wheel is installed (not editable) with its dependencies
from pip's cache.

Hypothesis profiles, registered before pytest reads its options so `--hypothesis-profile NAME`
can choose one: "ci" (the default: derandomized, the same examples on every run, so a property
test cannot flake) and "fuzz" (2,000 random examples per property, run by hand to search).
HYPOTHESIS_PROFILE=NAME chooses one too; the option wins over it."""

import fcntl
import os
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

ROOT = Path(__file__).resolve().parents[1]
WHEEL_VENV = ROOT / ".venv-wheel"

settings.register_profile(
    "ci", max_examples=60, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "fuzz",
    max_examples=2000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def run(argv: list[str | Path], what: str, **env: str) -> None:
    done = subprocess.run(argv, capture_output=True, text=True, timeout=600, env={**os.environ, **env})
    if done.returncode:
        pytest.fail(f"{what} failed ({done.returncode}):\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}", pytrace=False)


@contextmanager
def tree_lock() -> Iterator[None]:
    """One session at a time builds in the tree (the sdist writes migdoctor.egg-info there) and
    installs into .venv-wheel: sessions on the same tree do not pull either from under each other."""
    WHEEL_VENV.mkdir(exist_ok=True)
    with (WHEEL_VENV / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


@pytest.fixture(scope="session")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel built from the tree's sdist."""
    dist = tmp_path_factory.mktemp("dist")
    with tree_lock():
        run(
            [sys.executable, "-m", "build", "--outdir", dist, ROOT],
            "python -m build (warnings are errors)",
            PYTHONWARNINGS="error",
        )
    (built,) = dist.glob("migdoctor-*.whl")
    return built


@pytest.fixture(scope="session")
def wheel_venv(wheel: Path) -> Path:
    """.venv-wheel with the session's wheel installed, reinstalled only when the wheel's RECORD
    (every file's hash) differs from the installed one's."""
    stamp = WHEEL_VENV / ".installed-record"
    with tree_lock():
        if not (WHEEL_VENV / "bin" / "python").exists():
            run([sys.executable, "-m", "venv", "--without-pip", WHEEL_VENV], "creating .venv-wheel")
            stamp.unlink(missing_ok=True)
        with zipfile.ZipFile(wheel) as archive:
            record = archive.read(next(n for n in archive.namelist() if n.endswith(".dist-info/RECORD")))
        if not stamp.is_file() or stamp.read_bytes() != record:
            # .venv's pip, so its caches (libvirt-python's wheel built by setup.sh) serve this venv
            pip = [sys.executable, "-m", "pip", "--python", WHEEL_VENV / "bin" / "python", "install", "-q"]
            pip += ["--retries", "10", "--timeout", "60"]
            run([*pip, "--force-reinstall", "--no-deps", wheel], "installing the wheel")
            run([*pip, wheel], "installing the wheel's dependencies")  # as its new metadata names them
            stamp.write_bytes(record)
    return WHEEL_VENV
