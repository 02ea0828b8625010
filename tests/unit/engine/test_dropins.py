"""Drop-in checks (--checks-dir) are imported where nothing they do at import can end or change
the run: a file that ends its process is one line naming it, exit 2; one that patches migdoctor's
own objects changes no other check's verdict, in a one-pair run or a fleet's; what one prints
never reaches stdout, where the JSON report may go."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from migdoctor.engine import DiscoveryError, discover
from migdoctor.report.compact import expanded_pairs

DATA = Path(__file__).parents[2] / "data" / "facts"
SEED = DATA / "seed-report.json"

RULE = """
from migdoctor.checkapi import Registry, passed

registry = Registry()


@registry.check("site.rule", "A site rule", "low", ("dst.links",))
def rule(pair):
    print("printed by the check")
    return passed("fine")
"""

# Every finding of every other check becomes PASS, and what fails passes: patched at import.
PATCHES = """
import migdoctor.checkapi as api
import migdoctor.engine as engine
import migdoctor.run.judge as judge
from migdoctor.checkapi import Outcome, Status

api.failed = api.warned = api.passed
kept = engine.kept_contract
engine.kept_contract = lambda result: Outcome(Status.PASS, kept(result).summary)
judge.in_this_process = lambda checks, pair, ignored, known=(): [
    engine.finding_of(check, Outcome(Status.PASS, "patched"), set(), 0.0) for check in checks
]
"""


def migdoctor(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "migdoctor", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "MIGDOCTOR_INVENTORY": "/dev/null"},
    )


def statuses(report: dict) -> list[list[tuple[str, str]]]:
    return [[(f["id"], f["status"]) for f in pair["findings"]] for pair in expanded_pairs(report)]


@pytest.mark.parametrize("exit_call", ["os._exit(0)", "sys.exit(0)", "os._exit(3)"])
def test_a_drop_in_that_ends_its_process_at_import_is_one_line_naming_it(tmp_path: Path, exit_call: str) -> None:
    path = tmp_path / "leaves.py"
    path.write_text(f"import os, sys\n{exit_call}\n")

    with pytest.raises(DiscoveryError) as raised:
        discover(str(tmp_path))

    assert str(raised.value).startswith(f"{path}: ")
    assert "\n" not in str(raised.value)


def test_a_check_run_ending_its_process_at_import_exits_2_naming_the_file(tmp_path: Path) -> None:
    (tmp_path / "dropins").mkdir()
    path = tmp_path / "dropins" / "leaves.py"
    path.write_text("import os\nos._exit(0)\n")

    result = migdoctor(
        "check", "hosta", "hostb", "--facts", str(SEED), str(SEED), "--checks-dir", str(tmp_path / "dropins"),
        "--format", "json", "--output", str(tmp_path / "r.json"),
    )  # fmt: skip

    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr == f"migdoctor: {path}: its import ended its worker process (exit status 0)\n"


def one_pair(tmp_path: Path, checks_dir: Path | None) -> subprocess.CompletedProcess[str]:
    options = ["--checks-dir", str(checks_dir)] if checks_dir else []
    return migdoctor(
        "check", "hosta", "hostb", "--facts", str(SEED), str(SEED), "--migration-network", "198.51.100.0/24",
        "--format", "json", "--output", str(tmp_path / f"{bool(checks_dir)}.json"), *options,
    )  # fmt: skip


def fleet(tmp_path: Path, checks_dir: Path | None) -> subprocess.CompletedProcess[str]:
    facts = json.loads(SEED.read_text())["facts"]
    hosts = tmp_path / "hosts"
    hosts.mkdir(exist_ok=True)
    for label, side in (("hosta", "source"), ("hostb", "destination"), ("hostc", "destination")):
        (hosts / f"{label}.json").write_text(json.dumps(facts[side]))
    options = ["--checks-dir", str(checks_dir)] if checks_dir else []
    return migdoctor(
        "check", "--all", "--facts-dir", str(hosts), "--migration-network", "198.51.100.0/24",
        "--format", "json", "--output", str(tmp_path / f"fleet-{bool(checks_dir)}.json"), *options,
    )  # fmt: skip


@pytest.mark.parametrize("run", [one_pair, fleet], ids=["one-pair", "fleet"])
def test_a_drop_in_patching_migdoctor_at_import_changes_no_other_verdict(tmp_path: Path, run) -> None:
    dropins = tmp_path / "dropins"
    dropins.mkdir()
    (dropins / "a_patches.py").write_text(PATCHES + RULE)
    (dropins / "b_other.py").write_text(
        RULE.replace("site.rule", "site.other").replace('passed("fine")', 'failed("not fine")')
        .replace("import Registry, passed", "import Registry, failed")
    )  # fmt: skip

    plain, patched = run(tmp_path, None), run(tmp_path, dropins)

    assert plain.returncode == 1 and patched.returncode == 1, patched.stderr
    before, after = json.loads(plain.stdout), json.loads(patched.stdout)
    assert [pair[:-2] for pair in statuses(after)] == statuses(before)
    assert all(pair[-2:] == [("site.rule", "pass"), ("site.other", "fail")] for pair in statuses(after))
    assert any(status == "fail" for pair in statuses(before) for _, status in pair)


def test_what_a_drop_in_prints_at_import_or_in_its_check_never_reaches_stdout(tmp_path: Path) -> None:
    dropins = tmp_path / "dropins"
    dropins.mkdir()
    (dropins / "noisy.py").write_text(
        'print("printed at import")\nimport sys\nprint("on stderr", file=sys.stderr)\n' + RULE
    )

    result = one_pair(tmp_path, dropins)

    report = json.loads(result.stdout)  # nothing but the report
    assert statuses(report)[0][-1] == ("site.rule", "pass")
    assert "printed" not in result.stdout + result.stderr and "on stderr" not in result.stderr


def test_drop_ins_are_listed_without_being_imported_here(tmp_path: Path) -> None:
    (tmp_path / "site.py").write_text('"""Site rules."""\nimport sys\nsys.modules["migdoctor"].planted = True\n' + RULE)

    (check,) = [check for check in discover(str(tmp_path)) if check.origin != "built-in"]

    import migdoctor

    assert not hasattr(migdoctor, "planted")
    assert (check.id, check.needs, check.run.doc) == ("site.rule", ("dst.links",), "Site rules.")


def test_a_drop_in_worker_answering_for_another_check_is_an_error(tmp_path: Path) -> None:
    from migdoctor.checkapi import Status
    from migdoctor.engine import run_checks
    from migdoctor.judging.pair import Intent, MigrationNetwork, Pair

    (tmp_path / "forger.py").write_text(
        "import dataclasses\nimport migdoctor.engine as engine\nmade = engine.finding_of\n"
        "engine.finding_of = lambda *args: dataclasses.replace(made(*args), id='link.mtu')\n" + RULE
    )
    (dropped,) = [check for check in discover(str(tmp_path)) if check.origin != "built-in"]
    pair = Pair("hosta", "hostb", {}, {"links": []}, Intent(MigrationNetwork.parse("198.51.100.0/24"), "test", False))

    (finding,) = run_checks([dropped], pair, set())

    assert (finding.id, finding.status, finding.summary) == (
        "site.rule",
        Status.ERROR,
        "check's worker answered for another check",
    )
