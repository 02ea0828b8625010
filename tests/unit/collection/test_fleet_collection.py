"""The migdoctor.fleet collection run by the real ansible-playbook and ansible-doc, on this machine
through a local connection with its bare /usr/bin/python3 (the lab test runs it over SSH), and
held to Ansible's own tools: ansible-test's sanity tests and ansible-lint."""

from __future__ import annotations

import importlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from migdoctor.schemas import schema_errors

REPO = Path(__file__).resolve().parents[3]
COLLECTION = REPO / "ansible_collections" / "migdoctor" / "fleet"
BIN = Path(sys.executable).parent
INVENTORY = "[here]\nlocalbox ansible_connection=local ansible_python_interpreter=/usr/bin/python3\n"
MODULES = ["host_facts", "peer_lookup_facts", "facts_file"]


def ansible(program: str, *args: str, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",  # ansible-test and ansible-lint run their siblings
        "ANSIBLE_COLLECTIONS_PATH": str(REPO),
        "ANSIBLE_NOCOLOR": "1",
        "NO_COLOR": "1",
        "ANSIBLE_RETRY_FILES_ENABLED": "0",
    }
    return subprocess.run(
        [str(BIN / program), *args], capture_output=True, text=True, timeout=timeout, cwd=cwd, env=env
    )


@pytest.mark.parametrize("name", MODULES)
def test_each_module_documents_exactly_the_options_its_action_plugin_takes(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.syspath_prepend(str(REPO))
    action = importlib.import_module(f"ansible_collections.migdoctor.fleet.plugins.action.{name}")

    done = ansible("ansible-doc", "--json", f"migdoctor.fleet.{name}", cwd=tmp_path)

    assert done.returncode == 0, done.stderr
    documented = json.loads(done.stdout)[f"migdoctor.fleet.{name}"]["doc"]["options"]
    assert set(documented) == set(action.ARGUMENT_SPEC)
    for option, spec in action.ARGUMENT_SPEC.items():
        assert documented[option]["type"] == spec["type"]
        assert documented[option].get("required", False) == spec.get("required", False), option


def gather(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "hosts.ini").write_text(INVENTORY)
    return ansible("ansible-playbook", "-i", "hosts.ini", "migdoctor.fleet.gather_facts", *args, cwd=tmp_path)


def test_the_playbook_saves_one_valid_facts_file_per_host_and_check_mode_saves_none(tmp_path: Path) -> None:
    facts_dir = tmp_path / "facts"

    checked = gather(tmp_path, "--check", "-e", f"migdoctor_facts_dir={facts_dir}")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert not facts_dir.exists()

    done = gather(tmp_path, "-e", f"migdoctor_facts_dir={facts_dir}")
    assert done.returncode == 0, done.stdout + done.stderr
    assert [path.name for path in facts_dir.iterdir()] == ["localbox.json"]
    text = (facts_dir / "localbox.json").read_text()
    record = json.loads(text)
    assert schema_errors("facts", record) == []
    assert text == json.dumps(record, indent=2, sort_keys=True) + "\n"  # as `migdoctor facts --json` prints it
    assert record["identity"]["hostname"] == os.uname().nodename


def test_the_playbook_says_which_variable_it_needs(tmp_path: Path) -> None:
    done = gather(tmp_path)

    assert done.returncode == 2
    assert "set the directory for the facts files: -e migdoctor_facts_dir=DIR" in done.stdout


def play(tmp_path: Path, tasks: str, *args: str) -> subprocess.CompletedProcess[str]:
    """A play of TASKS (YAML, indented as a play's tasks) on this machine."""
    (tmp_path / "hosts.ini").write_text(INVENTORY)
    (tmp_path / "play.yml").write_text(f"- name: Here\n  hosts: all\n  gather_facts: false\n  tasks:\n{tasks}")
    return ansible("ansible-playbook", "-i", "hosts.ini", "play.yml", *args, cwd=tmp_path)


def test_the_old_module_name_still_collects_with_a_deprecation_naming_the_new_modules(tmp_path: Path) -> None:
    tasks = """\
    - migdoctor.fleet.facts:
    - migdoctor.fleet.facts_file:
        record: "{{ ansible_facts.migdoctor }}"
        dest: facts
"""
    done = play(tmp_path, tasks)

    assert done.returncode == 0, done.stdout + done.stderr
    assert json.loads((tmp_path / "facts" / "localbox.json").read_text())["identity"]["hostname"] == os.uname().nodename
    warning = " ".join((done.stdout + done.stderr).split())
    assert "migdoctor.fleet.facts has been deprecated. Use migdoctor.fleet.host_facts" in warning
    assert "migdoctor.fleet.peer_lookup_facts and migdoctor.fleet.facts_file" in warning


def test_facts_file_changes_the_file_only_when_it_held_another_record_and_refuses_what_is_no_record(
    tmp_path: Path,
) -> None:
    record = json.loads((REPO / "tests" / "data" / "facts" / "healthy-report.json").read_text())["facts"]["source"]
    (tmp_path / "vars.json").write_text(json.dumps({"record": record, "other": record | {"tool_version": "0.0.1"}}))
    save = '    - migdoctor.fleet.facts_file:\n        record: "{{ %s }}"\n        dest: facts\n'
    saved = tmp_path / "facts" / "localbox.json"

    first = play(tmp_path, save % "record", "-e", "@vars.json")
    again = play(tmp_path, save % "record", "-e", "@vars.json")
    checked = play(tmp_path, save % "other", "-e", "@vars.json", "--check")
    refused = play(tmp_path, save % "{'links': 'not a record'}")

    assert "changed=1" in first.stdout and first.returncode == 0, first.stdout + first.stderr
    assert "changed=0" in again.stdout and again.returncode == 0, again.stdout + again.stderr
    assert "changed=1" in checked.stdout and checked.returncode == 0, checked.stdout + checked.stderr
    assert saved.read_text() == json.dumps(record, indent=2, sort_keys=True) + "\n"  # check mode wrote nothing
    assert refused.returncode == 2 and "localbox: not a migdoctor facts record" in refused.stdout, refused.stdout


def test_the_collection_builds_with_its_readme_license_and_changelog(tmp_path: Path) -> None:
    done = ansible(
        "ansible-galaxy", "collection", "build", "--output-path", str(tmp_path), str(COLLECTION), cwd=tmp_path
    )

    assert done.returncode == 0, done.stdout + done.stderr
    (artifact,) = tmp_path.glob("migdoctor-fleet-*.tar.gz")
    with tarfile.open(artifact) as built:
        assert {"README.md", "LICENSE", "CHANGELOG.md", "plugins/action/host_facts.py"} <= set(built.getnames())


@pytest.fixture
def collection_copy(tmp_path: Path) -> Path:
    """The collection under TMP/ansible_collections/migdoctor/fleet, where ansible-test wants it: what
    the tools write (ansible-test's tests/output, ansible-lint's .ansible) stays out of the repository."""
    copy = tmp_path / "ansible_collections" / "migdoctor" / "fleet"

    def written(where: str, names: list[str]) -> list[str]:
        output = COLLECTION / "tests" / "output"
        return [name for name in names if name in ("__pycache__", ".ansible") or Path(where, name) == output]

    shutil.copytree(COLLECTION, copy, ignore=written)
    return copy


def test_ansible_test_sanity_passes(collection_copy: Path) -> None:
    """Every sanity test, with this Python's (--local: no container runtime here); their virtualenvs are
    made once, by scripts/setup.sh."""
    python = f"{sys.version_info.major}.{sys.version_info.minor}"

    done = ansible("ansible-test", "sanity", "--local", "--python", python, cwd=collection_copy, timeout=900)

    assert done.returncode == 0, done.stdout + done.stderr


def test_ansible_lint_passes(collection_copy: Path) -> None:
    done = ansible("ansible-lint", "--offline", cwd=collection_copy, timeout=300)

    assert done.returncode == 0, done.stdout + done.stderr
