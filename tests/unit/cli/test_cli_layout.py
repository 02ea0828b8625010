"""What the command line shows of itself: where the default report goes and that it says so,
grouped help with one kind of metavar, check ids that are never cut, host forms from the transports."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from test_cli import SEED, migdoctor

from migdoctor.engine import discover
from migdoctor.transports import TRANSPORTS, transport_class


def judged_without_output(cwd: Path, *options: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    argv = [sys.executable, "-m", "migdoctor", "check", "hosta", "hostb", "--facts", SEED, SEED]
    argv += ["--migration-network", "198.51.100.0/24", *options]
    return subprocess.run(
        argv, capture_output=True, text=True, timeout=60, cwd=cwd, env={**os.environ, "COLUMNS": "200", **(env or {})}
    )


def test_the_default_report_goes_to_the_report_dir_and_is_named_on_stderr(tmp_path: Path) -> None:
    done = judged_without_output(tmp_path, "--report-dir", "out/reports", "--format", "json")

    written = list((tmp_path / "out/reports").iterdir())
    assert done.returncode == 1 and len(written) == 1 and not (tmp_path / "reports").exists()
    assert re.fullmatch(r"\d{8}T\d{6}Z_hosta_hostb\.json", written[0].name)
    assert done.stderr == f"report: out/reports/{written[0].name}\n"  # said even when stdout is JSON
    assert json.loads(done.stdout) == json.loads(written[0].read_text())


def test_the_report_dir_may_come_from_the_environment(tmp_path: Path) -> None:
    done = judged_without_output(tmp_path, env={"MIGDOCTOR_REPORT_DIR": str(tmp_path / "ci")})

    assert done.returncode == 1
    (written,) = (tmp_path / "ci").iterdir()
    assert done.stderr == f"report: {written}\n"


def test_check_help_groups_its_options_and_writes_metavars_one_way() -> None:
    usage = migdoctor("check", "--help").stdout

    headings = [line[:-1] for line in usage.splitlines() if re.fullmatch(r"[A-Z][a-z ]+:", line)]
    assert headings == ["Arguments", "Hosts", "Saved facts", "Checks", "Guests", "Test migration", "Report", "Options"]
    metavars = set(re.findall(r"^\s+(?:-\w, )?--[\w-]+ ([^\s/-].*?)(?:\s{2,}|$)", usage, re.MULTILINE))
    assert metavars and all(re.fullmatch(r"[A-Z_]+(\[,[A-Z_.]+\])?( [A-Z_]+)?", metavar) for metavar in metavars), (
        metavars
    )


def test_host_arguments_list_each_transports_own_form() -> None:
    usage = " ".join(migdoctor("facts", "--help").stdout.split())

    forms = [transport_class(name).FORM for name in TRANSPORTS]
    assert forms == ["local", "ssh://[user@]host[:port]", "lab:HOST"]
    assert all(form in usage for form in forms)


def test_checks_never_cuts_an_id_however_narrow_the_terminal() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "migdoctor", "checks"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "COLUMNS": "60"},
    )

    first_words = {line.split()[0] for line in done.stdout.splitlines()[1:] if line[:2].strip()}
    assert {check.id for check in discover(None)} <= first_words
