"""Guests in a run, offline. tests/data/guests/evacuate-report.json is what `migdoctor evacuate hosta
--include-facts` wrote on the lab's `guests` scenario (libvirt 9.0, QEMU 7.2): its facts are judged
again here from a facts directory, where the pair look-ups (CPU comparison, storage marker) that
only a live run makes are absent, so no guest may pass."""

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from cli_runs import migdoctor_report

from migdoctor.report.document import validate_report

DATA = Path(__file__).parents[2] / "data" / "facts"
CAPTURED = json.loads((DATA.parent / "guests" / "evacuate-report.json").read_text(encoding="utf-8"))


@pytest.fixture
def guests_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "facts"
    directory.mkdir()
    for label, facts in CAPTURED["facts"].items():
        (directory / f"{label}.json").write_text(json.dumps(facts), encoding="utf-8")
    return directory


def migdoctor(tmp_path: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    return migdoctor_report(tmp_path, *args, timeout=120)


def verdicts(report: dict[str, Any]) -> dict[str, str]:
    return {guest["name"]: guest["verdict"] for guest in report["guests"]}


def test_the_lab_evacuation_is_a_valid_report_placing_web_alone() -> None:
    validate_report(CAPTURED)

    assert verdicts(CAPTURED) == {"scratch": "fail", "isolated": "fail", "db": "fail", "web": "pass"}
    assert {p["guest"]: p["destination"] for p in CAPTURED["plan"]} == {
        "scratch": None,
        "isolated": None,
        "db": None,
        "web": "hostb",
    }
    assert CAPTURED["exit_status"] == 1


def test_saved_facts_without_look_ups_place_no_guest_and_pass_none(tmp_path, guests_dir) -> None:
    done, report = migdoctor(tmp_path, "evacuate", "hosta", "--facts-dir", str(guests_dir))

    validate_report(report)
    assert [(pair["source"], pair["destination"]) for pair in report["pairs"]] == [("hosta", "hostb")]
    assert verdicts(report) == {"scratch": "incomplete", "isolated": "fail", "db": "incomplete", "web": "incomplete"}
    web = next(guest for guest in report["guests"] if guest["name"] == "web")
    assert web["not_checked"] == ["web: its CPU and storage were not looked up from hosta on hostb"]
    assert all(placement["destination"] is None for placement in report["plan"])
    assert done.returncode == report["exit_status"] == 1
    why = "web: its CPU and storage were not looked up from hosta on hostb"
    assert f"  web: stays on hosta: hostb: incomplete ({why})" in done.stdout.splitlines()
    assert report["evacuation"]["total_s"] is None and report["evacuation"]["fits"] is None


def test_a_named_guest_not_running_on_the_source_is_not_checked(tmp_path, guests_dir) -> None:
    done, report = migdoctor(
        tmp_path, "check", "hosta", "hostb", "--facts-dir", str(guests_dir), "--guest", "web", "--guest", "mail"
    )

    validate_report(report)
    assert verdicts(report) == {"web": "incomplete", "mail": "not checked"}
    mail = report["guests"][1]
    assert (mail["findings"], mail["not_checked"]) == ([], ["hosta: mail: not running on the source"])
    assert report["plan"][1] == {
        "guest": "mail",
        "destination": None,
        "reason": "hostb: not checked (hosta: mail: not running on the source)",
    }
    assert done.returncode == report["exit_status"] == 2


def test_guests_of_facts_collected_without_them_are_unknown_and_exit_2(tmp_path) -> None:
    healthy = json.loads((DATA / "healthy-report.json").read_text(encoding="utf-8"))["facts"]
    directory = tmp_path / "facts"
    directory.mkdir()
    for label, side in (("kvm1", "source"), ("kvm2", "destination")):
        (directory / f"{label}.json").write_text(json.dumps(healthy[side]), encoding="utf-8")

    done, report = migdoctor(tmp_path, "evacuate", "kvm1", "--facts-dir", str(directory))

    validate_report(report)
    line = "kvm1: its running guests are not known: its facts hold no guests (collected without --guests?)"
    assert (report["guests"], report["plan"], report["guests_unknown"]) == ([], [], [line])
    assert line in report["not_checked"] and f"not checked: {line}" in done.stdout
    assert f"migdoctor: {line}" in done.stderr.splitlines()
    assert done.returncode == report["exit_status"] == 2


def test_a_check_without_guests_has_no_guest_keys(tmp_path, guests_dir) -> None:
    _, report = migdoctor(tmp_path, "check", "hosta", "hostb", "--facts-dir", str(guests_dir))

    assert not {"guests", "plan", "guests_unknown"} & set(report)


# The lab's facts and pair look-ups as migdoctor.run.collect gathered them (tests/unit/fixtures/guests:
# where they came from is in the file), judged through the run as a live evacuation judges them.
LAB = json.loads((Path(__file__).parents[1] / "fixtures/guests/lab-scenario-guests.json").read_text(encoding="utf-8"))
MIB = 1024 * 1024


def lab_run(facts: dict[str, Any], lookups: dict[str, Any], destinations: tuple[str, ...] = ("hostb",)) -> dict:
    """The report `evacuate hosta DST...` makes of FACTS (by host) and LOOKUPS (hosta -> each DST)."""
    import time
    from datetime import UTC, datetime

    from migdoctor.judging.pair import Intent, MigrationNetwork
    from migdoctor.run.collect import Collected, Gathered, Measured
    from migdoctor.run.judge import judge
    from migdoctor.run.request import Request, SavedFacts
    from migdoctor.transports.inventory import Inventory

    labels = ("hosta", *destinations)
    request = Request(
        [SavedFacts(label, Path(f"{label}.json")) for label in labels],
        [("hosta", dst) for dst in destinations],
        Inventory(),
        guests=(),
    )
    intent = Intent(MigrationNetwork.parse("198.51.100.0/24"), "--migration-network", False)
    gathered = Gathered(
        {label: Collected(facts[label]) for label in labels},
        dict.fromkeys(destinations, intent),
        {("hosta", dst): Measured(guests=lookups) for dst in destinations},
    )
    return judge(request, gathered, time.monotonic(), datetime.now(UTC))


def test_the_lab_guests_judged_through_the_run_agree_with_what_virsh_did() -> None:
    report = lab_run(LAB["facts"], LAB["lookups"])

    validate_report(report)
    moved = {name: answer["exit_status"] == 0 for name, answer in LAB["virsh_migrate"].items()}
    assert {name: verdict in ("pass", "warn") for name, verdict in verdicts(report).items()} == moved
    assert [p["destination"] for p in report["plan"] if p["guest"] == "web"] == ["hostb"]


def test_a_destination_holding_one_guest_takes_the_first_and_the_next_goes_on() -> None:
    """web and its twin web2 fit hostb alone but not together: web goes to hostb, web2, judged at
    hostb with web planned there first, to hostc."""
    facts = json.loads(json.dumps(LAB["facts"]))
    web = next(guest for guest in facts["hosta"]["guests"] if guest["name"] == "web")
    facts["hosta"]["guests"] = [web, {**web, "name": "web2", "xml": web["xml"].replace(">web<", ">web2<")}]
    facts["hostb"]["virt"]["free_memory_bytes"] = 100 * MIB  # one 64 MiB guest
    facts["hostc"] = json.loads(json.dumps(LAB["facts"]["hostb"]))
    lookups = {**LAB["lookups"], "web2": LAB["lookups"]["web"]}

    report = lab_run(facts, lookups, ("hostb", "hostc"))

    validate_report(report)
    assert {(p["guest"], p["destination"]) for p in report["plan"]} == {("web", "hostb"), ("web2", "hostc")}
    at_hostb = next(g for g in report["guests"] if (g["name"], g["destination"]) == ("web2", "hostb"))
    (memory,) = [f for f in at_hostb["findings"] if f["id"] == "guest.memory"]
    assert memory["status"] == "fail" and "after web" in memory["summary"], memory
    assert at_hostb["verdict"] == "fail" and report["exit_status"] == 1


def test_a_guest_whose_path_fails_stays_and_the_plan_says_it_is_the_path() -> None:
    from migdoctor.judging.plan import plan_evacuation
    from migdoctor.report.document import guest_record

    entry = guest_record("web", "hosta", "hostb", [], [], "fail")

    (placement,) = plan_evacuation([{**entry, "memory_bytes": 64 * MIB, "free_memory_bytes": 1024 * MIB}])

    assert entry["verdict"] == "fail"
    assert placement == {"guest": "web", "destination": None, "reason": "hostb: fail (its path is fail)"}


def test_a_guest_no_check_judged_is_not_checked_never_a_pass(tmp_path, guests_dir) -> None:
    done, report = migdoctor(tmp_path, "evacuate", "hosta", "--facts-dir", str(guests_dir), "--only", "dns")

    validate_report(report)
    assert set(verdicts(report).values()) == {"not checked"}
    assert report["guests"][0]["not_checked"] == [
        f"{report['guests'][0]['name']}: no guest check ran (--only selects none)"
    ]
    assert all(placement["destination"] is None for placement in report["plan"]) and done.returncode == 2
