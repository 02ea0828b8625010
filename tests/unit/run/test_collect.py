"""The collection plan of a many-pair run, with the hosts' answers stood in by captured facts:
each host's facts once, its look-ups about all its peers in one call, a host that cannot be
reached taking out only its own pairs, no two probes on one host at once, trials one by one, a
refused trial taking out only its own pair's."""

import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from migdoctor.actions.migration import TrialOptions, TrialRefused
from migdoctor.report.document import validate_report
from migdoctor.run import collect as collect_module
from migdoctor.run import trial as trial_module
from migdoctor.run.collect import Collected, Measured, collect
from migdoctor.run.judge import judge
from migdoctor.run.request import Request, each_other
from migdoctor.transports import Host
from migdoctor.transports.inventory import Inventory

UNREACHABLE = "kvm3: ssh to root@kvm3 failed: ssh: connect to host kvm3 port 22: Connection refused"


@dataclass
class FakeTransport:
    label: str


def fleet_request(labels, **options):
    hosts = [Host(label, "ssh", f"root@{label}") for label in labels]
    return Request(hosts, each_other(labels), Inventory(), migration_network="198.51.100.0/24", **options)


@pytest.fixture
def answered(monkeypatch, fleet_facts):
    """Hosts answer with their captured facts (kvm3 not at all); every call is recorded."""
    calls = []

    @contextmanager
    def transports(hosts):
        yield [FakeTransport(host.label) for host in hosts]

    def fetch(transport, lookups):
        calls.append((transport.label, lookups))
        if transport.label == "kvm3":
            return Collected(None, UNREACHABLE)
        facts = fleet_facts[transport.label]
        if lookups.only:
            return Collected({key: facts[key] for key in ("route_lookups", "resolution", "missing")})
        return Collected(facts)

    monkeypatch.setattr(collect_module, "open_transports", transports)
    monkeypatch.setattr(collect_module, "fetch", fetch)
    return calls


def test_each_host_is_asked_once_for_its_facts_and_once_for_all_its_look_ups(answered):
    gathered = collect(fleet_request(["kvm1", "kvm2", "kvm3"], probe=False))

    first = sorted(label for label, lookups in answered if not lookups.only)
    second = sorted(label for label, lookups in answered if lookups.only)
    assert first == ["kvm1", "kvm2", "kvm3"] and second == ["kvm1", "kvm2"]  # kvm3 unreached: no second round
    (kvm1,) = [lookups for label, lookups in answered if label == "kvm1" and lookups.only]
    assert "hostb-fast.lab.test" in kvm1.resolve and "198.51.100.2" in kvm1.route_to  # kvm2's, as a source
    assert "198.51.100.2" in kvm1.reverse
    assert gathered.hosts["kvm3"].error == UNREACHABLE and gathered.hosts["kvm1"].facts is not None


def test_an_unreachable_host_marks_its_pairs_not_checked_and_the_others_are_judged(answered):
    request = fleet_request(["kvm1", "kvm2", "kvm3"], probe=False)
    report = judge(request, collect(request), time.monotonic(), datetime.now(UTC))

    by_pair = {(pair["source"], pair["destination"]): pair for pair in report["pairs"]}
    assert by_pair[("kvm1", "kvm2")]["exit_status"] == 0 and by_pair[("kvm1", "kvm2")]["findings"]
    for lost in (("kvm1", "kvm3"), ("kvm3", "kvm2")):
        assert by_pair[lost]["exit_status"] == 2 and by_pair[lost]["not_checked"][0] == UNREACHABLE
    assert report["matrix"]["kvm3"]["kvm1"]["verdict"] == "not checked" and report["exit_status"] == 2


def test_probes_never_share_a_host_and_test_migrations_run_one_at_a_time(answered, fleet_facts, monkeypatch):
    fleet_facts["kvm4"], fleet_facts["kvm5"] = fleet_facts["kvm1"], fleet_facts["kvm2"]
    busy: dict[str, int] = {}
    shared, at_once, trials = [], [], []
    lock, two_at_once = threading.Lock(), threading.Event()

    def probe_pair(request, src, dst, dst_facts, intent):
        with lock:
            shared.extend(label for label in (src.label, dst.label) if busy.get(label))
            for label in (src.label, dst.label):
                busy[label] = busy.get(label, 0) + 1
            at_once.append(sum(1 for count in busy.values() if count) // 2)
        if at_once[-1] == 2:
            two_at_once.set()
        two_at_once.wait(5)  # the first pair holds on until a pair apart from it runs too (it never may)
        with lock:
            for label in (src.label, dst.label):
                busy[label] -= 1
        return Measured({"probed": [src.label, dst.label]})

    def trial_of(request, src, dst, src_facts, dst_facts):
        trials.append((src.label, dst.label))
        return {"legs": []}

    monkeypatch.setattr(collect_module, "probe_pair", probe_pair)
    monkeypatch.setattr(trial_module, "trial_of", trial_of)
    request = fleet_request(["kvm1", "kvm2", "kvm3", "kvm4", "kvm5"], trial=TrialOptions(128, None, False, 0.0))

    gathered = collect(request)

    assert shared == [] and len(at_once) == 12  # the 12 pairs of the 4 reached hosts, none sharing a host
    assert max(at_once) == 2  # kvm1 -> kvm2 beside kvm4 -> kvm5: hosts apart are probed at once
    assert trials == [pair for pair in request.pairs if "kvm3" not in pair]  # one after another, in order
    assert gathered.measured[("kvm1", "kvm2")].probe == {"probed": ["kvm1", "kvm2"]}
    assert gathered.measured[("kvm1", "kvm2")].trial == {"legs": []}


REFUSED = "kvm4: 200 MiB free, the 256 MiB canary needs 320"


def passed_trial(src: str, dst: str) -> dict:
    """A test migration that crossed the healthy pair's fast links at 955 Mb/s, one way."""
    leg = {
        "from": src, "to": dst, "ok": True, "error": None, "wall_s": 2.3, "samples": 20,
        "source_link": "a-fast", "source_tx_bytes": 219 * 2**20, "destination_link": "b-fast",
        "destination_rx_bytes": 219 * 2**20, "rate_mbps": 955.0, "wall_rate_mbps": 800.0,
    }  # fmt: skip
    return {
        "domain": "migdoctor-canary-x", "canary": True, "virt_type": "kvm", "memory_mib": 256, "payload_mib": 208,
        "migrate_uri": None, "timeout_s": 60.0, "legs": [leg], "completed_stats": None, "cleanup": [],
        "interrupted": False,
    }  # fmt: skip


@pytest.fixture
def kvm4_refuses(answered, fleet_facts, monkeypatch):
    """kvm4 (the seed's destination again) refuses every trial into it; the others pass. The
    trials asked for are recorded."""
    fleet_facts["kvm4"] = fleet_facts["kvm3"]
    tried = []

    def trial_of(request, src, dst, src_facts, dst_facts):
        tried.append((src.label, dst.label))
        if dst.label == "kvm4":
            raise TrialRefused(REFUSED)
        return passed_trial(src.label, dst.label)

    monkeypatch.setattr(trial_module, "trial_of", trial_of)
    return tried


def evacuation_request(*destinations):
    request = fleet_request(["kvm1", *destinations], probe=False, trial=TrialOptions(256, None, True, 0.0))
    request.pairs = [("kvm1", destination) for destination in destinations]
    return request


def test_a_refused_trial_is_its_pairs_record_and_the_other_pairs_trials_still_run(kvm4_refuses):
    request = evacuation_request("kvm4", "kvm2")
    report = judge(request, collect(request), time.monotonic(), datetime.now(UTC))

    validate_report(report)
    assert kvm4_refuses == [("kvm1", "kvm4"), ("kvm1", "kvm2")]  # the refusal did not end the run
    refused, tried = report["pairs"]
    assert refused["migration_trial"] == {"refused": REFUSED} and refused["measured_path"] is None
    assert "kvm1 -> kvm4: test migration refused: " + REFUSED in refused["not_checked"]
    (verdict,) = [f for f in refused["findings"] if f["id"] == "migration.test-migration"]
    assert verdict["status"] == "skip"
    assert verdict["summary"].startswith(f"test migration refused: {REFUSED}; ")
    assert "`migdoctor migrate-test kvm1 kvm4` tries it alone" in verdict["summary"]
    (passed,) = [f for f in tried["findings"] if f["id"] == "migration.test-migration"]
    assert passed["status"] == "pass" and tried["exit_status"] == 0
    assert tried["measured_path"][0]["source_link"] == "a-fast"
    assert refused["exit_status"] == report["exit_status"] == 2  # could not run, as for one pair: the worst
    assert report["matrix"]["kvm1"]["kvm4"]["verdict"] == "fail"  # its static failures outrank "not checked"
    assert report["matrix"]["kvm1"]["kvm2"]["verdict"] == "pass"


def test_a_refused_trial_of_a_healthy_pair_is_not_checked_in_the_matrix(kvm4_refuses, fleet_facts):
    fleet_facts["kvm4"] = fleet_facts["kvm2"]
    request = evacuation_request("kvm2", "kvm4")
    report = judge(request, collect(request), time.monotonic(), datetime.now(UTC))

    assert report["matrix"]["kvm1"]["kvm4"]["verdict"] == "not checked" and report["pairs"][1]["exit_status"] == 2
    assert report["matrix"]["kvm1"]["kvm2"]["verdict"] == "pass" and report["exit_status"] == 2


def test_a_refused_trial_of_the_only_pair_still_ends_the_run(kvm4_refuses):
    with pytest.raises(TrialRefused, match=REFUSED):
        collect(evacuation_request("kvm4"))
