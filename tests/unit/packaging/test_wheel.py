"""The wheel (built from the sdist, so both) ships every module and data file of the tree, checks/
as migdoctor.checks, and nothing else; installed in a venv of its own, migdoctor runs from it."""

import json
import subprocess
import zipfile
from pathlib import Path

from migdoctor.schemas import facts_problem

ROOT = Path(__file__).resolve().parents[3]
# where each installed package's files lie in the tree
SOURCES = {"migdoctor": ROOT / "migdoctor", "migdoctor/checks": ROOT / "checks"}


def tree_files() -> set[str]:
    return {
        f"{installed}/{path.relative_to(source).as_posix()}"
        for installed, source in SOURCES.items()
        for path in source.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }


def test_the_wheel_holds_every_module_and_data_file_of_the_tree_and_nothing_else(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
    shipped = {name for name in names if not name.split("/")[0].endswith(".dist-info")}
    tree = tree_files()
    assert {"migdoctor/farside/boot.py", "migdoctor/checks/dns.py", "migdoctor/report/templates/report.html.j2"} <= tree
    assert sorted(tree - shipped) == [], "missing from the wheel"
    assert sorted(shipped - tree) == [], "in the wheel but not in the tree"  # no bench/, tests/


def test_the_installed_wheel_runs_from_its_own_venv_and_collects_facts(wheel_venv: Path, tmp_path: Path) -> None:
    where = subprocess.run(
        [wheel_venv / "bin" / "python", "-c", "import migdoctor.checks as c, migdoctor.farside as f; print(c.__file__, f.__file__)"],
        capture_output=True, text=True, cwd=tmp_path, timeout=60,
    )  # fmt: skip
    site = wheel_venv.resolve() / "lib"
    assert where.returncode == 0, where.stderr
    assert all(Path(file).resolve().is_relative_to(site) for file in where.stdout.split()), where.stdout

    facts = subprocess.run(
        [wheel_venv / "bin" / "migdoctor", "facts", "local", "--json"],
        capture_output=True, text=True, cwd=tmp_path, timeout=120,
    )  # fmt: skip
    assert facts.returncode == 0, facts.stderr
    record = json.loads(facts.stdout)
    assert facts_problem(record) is None and record["links"], facts.stdout[:2000]
