"""Checks are sandboxed: whatever a check does (raise anything, exit, return garbage, give evidence
that is not JSON, mutate the facts, print, loop forever, end its process) becomes an ERROR finding
naming it, and the other checks and the report are unharmed. Ctrl-C still stops the run."""

from __future__ import annotations

import copy
import json
import os
import signal
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

from migdoctor.checkapi import Check, Evidence, Outcome, Status, passed
from migdoctor.engine import discover, pair_checks, run_checks
from migdoctor.frozen import FrozenDict, freeze, thaw
from migdoctor.judging.pair import Intent, MigrationNetwork, Pair
from migdoctor.run.collect import Collected, Measured
from migdoctor.run.judge import PairJob, judge_pairs
from migdoctor.sandbox import Lost, isolated

FACTS_DIR = Path(__file__).resolve().parents[2] / "data" / "facts"
PAIR = Pair(
    "hosta",
    "hostb",
    {"links": [{"name": "a-lan"}]},
    {"links": []},
    Intent(MigrationNetwork.parse("198.51.100.0/24"), "test", False),
)


def check(run, check_id="site.misbehaves"):
    return Check(check_id, "A check made for the test", "low", (), run)


def after(pair):
    """A well-behaved check run after the misbehaving one: it sees the facts unchanged."""
    return passed(f"links {[link['name'] for link in pair.src['links']]}")


def spin(pair):
    while True:
        pass


def c_loop(pair):
    return passed(str(sum(range(10**13))))  # one C call: a thread could never interrupt it


def mutate(pair):
    pair.src["links"].append({"name": "planted"})
    return passed("mutated")


def generator_exit(pair):
    raise GeneratorExit("closed")


MISBEHAVIOURS = {
    "sys-exit-0": (lambda pair: sys.exit(0), "check raised SystemExit: 0"),
    "generator-exit": (generator_exit, "check raised GeneratorExit: closed"),
    "returns-none": (lambda pair: None, "check broke the contract: returned NoneType, not an Outcome"),
    "returns-id": (lambda pair: "dns.x", "check broke the contract: returned str, not an Outcome"),
    "status-off-contract": (
        lambda pair: Outcome("bad", "x"),  # type: ignore[arg-type]
        "check broke the contract: status 'bad' is not a Status",
    ),
    "summary-not-text": (
        lambda pair: Outcome(Status.PASS, 42),  # type: ignore[arg-type]
        "check broke the contract: summary 42 is not a string",
    ),
    "evidence-not-json": (
        lambda pair: passed("x", Evidence("hostb", "thing", {1, 2})),
        "check broke the contract: evidence 'thing' is not JSON: Object of type set is not JSON serializable",
    ),
    "evidence-nan": (
        lambda pair: passed("x", Evidence("hostb", "rate", float("nan"))),
        "check broke the contract: evidence 'rate' is not JSON: Out of range float values are not JSON compliant",
    ),
    "evidence-not-evidence": (
        lambda pair: Outcome(Status.PASS, "x", ("hostb",)),  # type: ignore[arg-type]
        "check broke the contract: evidence is not a sequence of Evidence",
    ),
    "mutates-facts": (
        mutate,
        "check raised TypeError: facts are read-only: copy what you change (dict(...), list(...))",
    ),
    "os-exit": (lambda pair: os._exit(3), "check ended its worker process (exit status 3)"),
    "kills-itself": (
        lambda pair: os.kill(os.getpid(), signal.SIGKILL),
        "check ended its worker process (killed by SIGKILL)",
    ),
    "endless-python-loop": (spin, "check ran longer than its 0.5 s budget and was stopped"),
    "endless-c-call": (c_loop, "check ran longer than its 0.5 s budget and was stopped"),
}


@pytest.mark.parametrize("name", MISBEHAVIOURS)
def test_misbehaving_check_is_an_error_naming_it_and_the_run_goes_on(name, capfd):
    run, summary = MISBEHAVIOURS[name]
    started = time.monotonic()

    findings = run_checks([check(run), check(after, "site.after")], PAIR, set(), budget_s=0.5)

    assert time.monotonic() - started < 5
    assert [(f.id, f.status) for f in findings] == [("site.misbehaves", Status.ERROR), ("site.after", Status.PASS)]
    assert findings[0].summary == summary
    assert findings[1].summary == "links ['a-lan']"
    assert PAIR.src == {"links": [{"name": "a-lan"}]}


def test_what_a_check_prints_never_reaches_stdout(capfd):
    def noisy(pair):
        print("garbage in the JSON output")
        return passed("quiet")

    findings = run_checks([check(noisy)], PAIR, set())

    assert findings[0].status == Status.PASS
    assert "garbage" not in capfd.readouterr().out


def test_ctrl_c_still_stops_the_run(tmp_path):
    """Ctrl-C while a check runs ends its worker at once: the check never gets to finish."""
    worker, finished = tmp_path / "worker.pid", tmp_path / "finished"

    def interrupt_parent(pair):
        worker.write_text(str(os.getpid()))
        os.kill(os.getppid(), signal.SIGINT)
        time.sleep(60)
        finished.write_text("the check ran to its end")
        return passed("never")

    with pytest.raises(KeyboardInterrupt):
        run_checks([check(interrupt_parent)], PAIR, set(), budget_s=120)
    with pytest.raises(ProcessLookupError):
        os.kill(int(worker.read_text()), 0)  # killed and reaped, not left sleeping
    assert not finished.exists()


def test_ctrl_c_stops_a_fleets_judging_at_once(tmp_path):
    """Many pairs are judged by a worker per core, waited on by threads: Ctrl-C reaches the main
    thread only, and every worker still ends at once, none left running its check."""
    facts = json.loads((FACTS_DIR / "healthy-report.json").read_text(encoding="utf-8"))["facts"]
    src, dst = (Collected(freeze(facts[side])) for side in ("source", "destination"))
    started, finished = tmp_path / "started", tmp_path / "finished"
    started.mkdir()

    def interrupt_parent(pair):
        (started / str(os.getpid())).touch()
        if (pair.src_label, pair.dst_label) == ("src0", "hostb"):  # Ctrl-C once
            os.kill(os.getppid(), signal.SIGINT)
        time.sleep(60)
        finished.write_text("a check ran to its end")
        return passed("never")

    jobs = [PairJob(f"src{n}", dst_label, src, dst, PAIR.intent, Measured()) for n in range(4) for dst_label in "bc"]
    jobs = [replace(job, dst_label=f"host{job.dst_label}") for job in jobs]
    with pytest.raises(KeyboardInterrupt):
        judge_pairs([check(interrupt_parent)], set(), jobs)

    assert list(started.iterdir())
    for worker in started.iterdir():
        with pytest.raises(ProcessLookupError):
            os.kill(int(worker.name), 0)
    assert not finished.exists()


def test_results_handed_over_together_still_name_the_task_to_blame():
    """A fleet's worker holds its results back (batch_s); one lost while it held some runs them
    again one by one, so each Lost is the task that caused it and every other result comes back."""
    tasks = [
        lambda: 1,
        lambda: os._exit(3),
        lambda: 3,
        lambda: time.sleep(60),
        lambda: lambda: "a function is no result",
        lambda: 6,
    ]

    results = isolated(tasks, budget_s=1, batch_s=60)

    assert [result for result in results if not isinstance(result, Lost)] == [1, 3, 6]
    assert [type(result) for result in results] == [int, Lost, int, Lost, Lost, int]
    assert [result.reason.split(" (")[0].split(":")[0] for result in results if isinstance(result, Lost)] == [
        "ended its worker process",
        "ran longer than its 1 s budget and was stopped",
        "its result cannot be handed back",
    ]


@pytest.mark.parametrize("report", ["healthy", "seed"])
def test_builtin_checks_judge_a_read_only_view_without_error(report):
    facts = json.loads((FACTS_DIR / f"{report}-report.json").read_text(encoding="utf-8"))["facts"]
    pair = Pair("hosta", "hostb", facts["source"], facts["destination"], PAIR.intent)

    findings = run_checks(pair_checks(discover()), pair, set())

    assert [f.id for f in findings if f.status == Status.ERROR] == []


def test_frozen_facts_copy_into_plain_mutable_data():
    frozen = freeze({"links": [{"name": "a"}]})

    plain = copy.deepcopy(frozen)
    plain["links"].append({"name": "b"})

    assert isinstance(frozen, FrozenDict) and type(plain) is dict and type(plain["links"]) is list
    assert thaw(frozen) == {"links": [{"name": "a"}]}
    with pytest.raises(TypeError):
        frozen["links"][0]["name"] = "c"


def test_the_collector_is_paused_inside_the_block_and_restored_after_it_even_on_an_error():
    import gc

    from migdoctor.frozen import collector_paused

    assert gc.isenabled()
    with pytest.raises(RuntimeError), collector_paused():
        assert not gc.isenabled()
        with collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # an inner block leaves the outer one's pause alone
        raise RuntimeError
    assert gc.isenabled()
