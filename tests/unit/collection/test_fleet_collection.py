"""The migdoctor.fleet collection run by the real ansible-playbook and ansible-doc, on this machine
through a local connection with its bare /usr/bin/python3 (the lab test runs it over SSH)."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

from migdoctor.schemas import schema_errors

REPO = Path(__file__).resolve().parents[3]
COLLECTION = REPO / "ansible_collections" / "migdoctor" / "fleet"
BIN = Path(sys.executable).parent
INVENTORY = "[here]\nlocalbox ansible_connection=local ansible_python_interpreter=/usr/bin/python3\n"


def ansible(program: str, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "ANSIBLE_COLLECTIONS_PATH": str(REPO),
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_RETRY_FILES_ENABLED": "0",
    }
    return subprocess.run([str(BIN / program), *args], capture_output=True, text=True, timeout=120, cwd=cwd, env=env)


def test_the_module_documents_exactly_the_options_its_action_plugin_takes(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("fleet_facts_action", COLLECTION / "plugins" / "action" / "facts.py")
    assert spec and spec.loader
    action = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(action)

    done = ansible("ansible-doc", "--json", "migdoctor.fleet.facts", cwd=tmp_path)

    assert done.returncode == 0, done.stderr
    documented = json.loads(done.stdout)["migdoctor.fleet.facts"]["doc"]["options"]
    assert set(documented) == set(action.ARGUMENT_SPEC)
    for name, option in action.ARGUMENT_SPEC.items():
        assert documented[name]["type"] == option["type"]


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
