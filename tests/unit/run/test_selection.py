"""What a run is asked to judge must be something: an empty --only (a CI variable left empty)
selects no check and is refused, and a host is never judged against itself (the same name twice,
two names reaching one host, one facts record under two names). Saved lab facts stand in for
hosts; the unreachable ones are an SSH port nothing listens on, so contacting them would say so."""

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from cli_runs import migdoctor_report

DATA = Path(__file__).parents[2] / "data" / "facts"
SEED = str(DATA / "seed-report.json")
NOT_ITSELF = "a host does not migrate to itself"


def migdoctor(tmp_path: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    return migdoctor_report(tmp_path, "check", *args)


def judged(report: dict[str, Any]) -> list[tuple[str, str]]:
    return [(pair["source"], pair["destination"]) for pair in report["pairs"]]


@pytest.mark.parametrize("only", [[""], [","], [" , "], ["", ""]], ids=["empty", "comma", "blank-list", "twice"])
def test_an_empty_only_is_refused_never_zero_checks_passing(tmp_path: Path, only: list[str]) -> None:
    options = [arg for value in only for arg in ("--only", value)]
    done, report = migdoctor(tmp_path, "hosta", "hostb", "--facts", SEED, SEED, *options)

    assert done.returncode == 2 and report == {}, done.stdout
    assert done.stderr == (
        "migdoctor: --only selects no check (an empty value?): name a check id or area (see `migdoctor checks`), "
        "or leave --only out to run every check\n"
    )


def test_checks_with_a_blank_name_is_refused_not_an_empty_table() -> None:
    done = subprocess.run([sys.executable, "-m", "migdoctor", "checks", ""], capture_output=True, text=True, timeout=60)

    assert (done.returncode, done.stdout, done.stderr) == (2, "", "migdoctor: '': no check has that id or area\n")


def test_only_and_ignore_take_comma_separated_lists(tmp_path: Path) -> None:
    done, report = migdoctor(
        tmp_path, "hosta", "hostb", "--facts", SEED, SEED, "--only", "dns, config", "--ignore", "dns,config"
    )

    (pair,) = report["pairs"]
    assert {finding["area"] for finding in pair["findings"]} == {"dns", "config"}
    assert all(f["ignored"] for f in pair["findings"] if f["status"] == "fail") and done.returncode == 0


def test_a_source_among_its_destinations_is_dropped_with_a_line_and_the_rest_judged(tmp_path, facts_dir) -> None:
    done, report = migdoctor(tmp_path, "kvm1", "kvm2", "kvm1", "--facts-dir", str(facts_dir))

    assert judged(report) == [("kvm1", "kvm2")] and list(report["hosts"]) == ["kvm1", "kvm2"]
    assert done.returncode == report["exit_status"] == 0
    assert f"migdoctor: kvm1 -> kvm1: {NOT_ITSELF}; that pair is not judged" in done.stderr.splitlines()


@pytest.mark.parametrize("hosts", [["kvm1", "kvm1"], ["kvm1", "kvm1", "kvm1"]], ids=["pair", "evacuation"])
def test_a_run_left_with_no_pair_is_one_line_and_exit_2(tmp_path, facts_dir, hosts) -> None:
    done, report = migdoctor(tmp_path, *hosts, "--facts-dir", str(facts_dir))

    assert done.returncode == 2 and report == {}
    assert done.stderr == f"migdoctor: kvm1 -> kvm1: {NOT_ITSELF}; no pair is left to judge\n"


def test_one_name_given_twice_is_refused_before_any_host_is_contacted(tmp_path: Path) -> None:
    done, _ = migdoctor(tmp_path, "ssh://root@127.0.0.1:1", "ssh://root@127.0.0.1:1")

    assert done.returncode == 2
    assert done.stderr == (
        f"migdoctor: ssh://root@127.0.0.1:1 -> ssh://root@127.0.0.1:1: {NOT_ITSELF}; no pair is left to judge\n"
    )


def test_two_names_reaching_one_host_are_refused_before_it_is_contacted(tmp_path: Path) -> None:
    done, _ = migdoctor(tmp_path, "ssh://root@127.0.0.1:1", "ssh://admin@127.0.0.1:1")

    assert done.returncode == 2 and "ssh to" not in done.stderr
    assert done.stderr == (
        "migdoctor: ssh://root@127.0.0.1:1 -> ssh://admin@127.0.0.1:1: both are reached as ssh:root@127.0.0.1 and "
        f"ssh:admin@127.0.0.1; {NOT_ITSELF}; no pair is left to judge\n"
    )


def test_one_facts_record_under_two_names_in_a_facts_directory_is_dropped(tmp_path, facts_dir) -> None:
    (facts_dir / "kvm9.json").write_bytes((facts_dir / "kvm1.json").read_bytes())

    done, report = migdoctor(tmp_path, "kvm1", "kvm9", "kvm2", "--facts-dir", str(facts_dir))
    alone, _ = migdoctor(tmp_path, "kvm1", "kvm9", "--facts-dir", str(facts_dir))
    everyone, fleet = migdoctor(tmp_path, "--all", "--facts-dir", str(facts_dir))

    line = f"kvm1 -> kvm9: one facts record (hosta.lab.test) for both; {NOT_ITSELF}"
    assert judged(report) == [("kvm1", "kvm2")] and list(report["hosts"]) == ["kvm1", "kvm2"]
    assert f"migdoctor: {line}; that pair is not judged" in done.stderr.splitlines() and done.returncode == 0
    assert alone.returncode == 2 and alone.stderr == f"migdoctor: {line}; no pair is left to judge\n"
    assert list(fleet["hosts"]) == ["kvm1", "kvm2", "kvm3"] and len(fleet["pairs"]) == 6  # not kvm9, a copy
    assert (
        "migdoctor: kvm9: the same host as kvm1 (one facts record (hosta.lab.test) for both); its pairs are "
        "judged once, as kvm1's"
    ) in everyone.stderr.splitlines()


def test_one_facts_record_for_both_sides_of_facts_is_named(tmp_path: Path) -> None:
    facts = tmp_path / "hostb.json"
    facts.write_text(json.dumps(json.loads(Path(SEED).read_text())["facts"]["destination"]))

    done, _ = migdoctor(tmp_path, "a", "b", "--facts", str(facts), str(facts))

    assert done.returncode == 2
    assert done.stderr == (
        f"migdoctor: a -> b: one facts record (hostb.lab.test) for both; {NOT_ITSELF}; no pair is left to judge\n"
    )
