"""Saved facts, reports and pair lists a new user may hand over by mistake: parts of the wrong type,
JSON nested a thousand deep, a FIFO among a fleet's files, an inventory of 10,000 hosts with --all.
Each is a one-line error naming the file (exit 2), or that host's own "not checked" line."""

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from test_fleet_cli import check

from migdoctor.run.request import MAX_PAIRS, each_other
from migdoctor.run.saved import read_facts
from migdoctor.schemas import facts_problem

DEEP = 1000


def deep_list(depth: int) -> str:
    return "[" * depth + "]" * depth


def facts_text(facts: dict[str, Any], where: str) -> str:
    """FACTS as JSON with a list nested DEEP levels in WHERE: a new key, or in place of a part."""
    if where == "extra":
        return json.dumps(facts)[:-1] + f', "extra": {deep_list(DEEP)}}}'
    return json.dumps({**facts, where: "PLACE"}).replace('"PLACE"', deep_list(DEEP))


@pytest.mark.parametrize(
    "part",
    [{"facts": "x"}, {"facts": [1]}, {"hosts": "x"}, {"hosts": [[1]]}, {"facts": {"source": "x"}}, {"pairs": 1}],
    ids=["facts-text", "facts-list", "hosts-text", "hosts-list", "facts-of-text", "pairs-number"],
)
def test_a_report_whose_parts_are_the_wrong_type_holds_no_facts(tmp_path: Path, fleet_facts, part) -> None:
    report = {"schema_version": "1", "findings": [], "hosts": {"source": {"label": "kvm1"}}, "facts": {}}
    path = tmp_path / "report.json"
    path.write_text(json.dumps({**report, **part}), encoding="utf-8")

    with pytest.raises(ValueError) as raised:
        read_facts(path, "kvm1", "source")

    message = str(raised.value)
    assert message.startswith(f"{path}: ") and "\n" not in message
    assert "report holds no facts of kvm1" in message or "not a migdoctor facts record" in message


@pytest.mark.parametrize("where", ["extra", "config", "links"])
def test_facts_nested_a_thousand_deep_are_one_line(tmp_path: Path, fleet_facts, where: str) -> None:
    source, destination = tmp_path / "kvm1.json", tmp_path / "kvm2.json"
    source.write_text(facts_text(fleet_facts["kvm1"], where), encoding="utf-8")
    destination.write_text(json.dumps(fleet_facts["kvm2"]), encoding="utf-8")

    done, _ = check(tmp_path, "kvm1", "kvm2", "--facts", str(source), str(destination))

    assert done.returncode == 2
    assert done.stderr == f"migdoctor: {source}: nested deeper than 64 levels, not a migdoctor file\n"


def test_a_deep_file_and_a_fifo_in_a_facts_dir_take_out_only_their_hosts_pairs(tmp_path: Path, facts_dir) -> None:
    (facts_dir / "kvm4.json").write_text(deep_list(DEEP), encoding="utf-8")
    os.mkfifo(facts_dir / "kvm5.json")

    done, report = check(tmp_path, "--facts-dir", str(facts_dir), "--all")

    assert (
        done.returncode == report["exit_status"] == 1 and "Traceback" not in done.stderr
    )  # judged pairs fail: 1 outranks 2
    assert len(report["pairs"]) == 20
    judged = [pair for pair in report["pairs"] if not {"kvm4", "kvm5"} & {pair["source"], pair["destination"]}]
    assert len(judged) == 6 and all(pair["findings"] for pair in judged)
    assert all(pair["exit_status"] == 2 for pair in report["pairs"] if pair not in judged)
    assert (
        report["hosts"]["kvm4"]["error"]
        == f"{facts_dir / 'kvm4.json'}: nested deeper than 64 levels, not a migdoctor file"
    )
    assert report["hosts"]["kvm5"]["error"] == f"{facts_dir / 'kvm5.json'}: not a regular file (a FIFO)"


def test_every_pair_of_too_many_hosts_is_refused_with_the_count_before_any_is_made() -> None:
    labels = [f"kvm{number}" for number in range(10_000)]

    with pytest.raises(ValueError) as raised:
        each_other(labels)

    assert str(raised.value).startswith(f"10,000 hosts make 99,990,000 ordered pairs, more than the {MAX_PAIRS:,} ")
    assert "--all --group NAME" in str(raised.value)
    assert len(each_other(labels[:200])) == 39_800 == MAX_PAIRS


def test_all_on_an_inventory_of_10000_hosts_is_one_line(tmp_path: Path) -> None:
    inventory = tmp_path / "fleet.toml"
    inventory.write_text(
        "".join(f'[hosts.kvm{number}]\ntransport = "ssh://root@kvm{number}"\n' for number in range(10_000)),
        encoding="utf-8",
    )

    done = subprocess.run(
        [sys.executable, "-m", "migdoctor", "check", "--all", "-i", str(inventory)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )

    assert done.returncode == 2
    assert done.stderr.startswith("migdoctor: 10,000 hosts make 99,990,000 ordered pairs, more than the ")
    assert len(done.stderr.splitlines()) == 1


@pytest.mark.parametrize("where", ["extra", "config", "links"])
def test_a_record_nested_past_any_use_is_refused_wherever_it_came_from(fleet_facts, where: str) -> None:
    """A host's own answer, or the play's first round, is admitted by facts_problem as a file is."""
    record = {**fleet_facts["kvm1"], where: json.loads(deep_list(900))}

    assert facts_problem(record) == "nested deeper than 64 levels, not a migdoctor facts record"
    assert facts_problem(fleet_facts["kvm1"]) is None
