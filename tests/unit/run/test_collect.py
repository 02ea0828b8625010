"""The collection plan of a many-pair run, with the hosts' answers stood in by captured facts:
each host's facts once, its look-ups about all its peers in one call, a host that cannot be
reached taking out only its own pairs, no host sending or receiving two probes at once, trials
one by one, a refused trial taking out only its own pair's."""

import threading
import time
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

import pytest

from migdoctor.actions import guests as guests_module
from migdoctor.actions import peer
from migdoctor.actions.migration import TrialOptions, TrialRefused
from migdoctor.facts.guests import GuestAsk
from migdoctor.report.compact import expanded_pairs
from migdoctor.report.document import validate_report
from migdoctor.run import collect as collect_module
from migdoctor.run import trial as trial_module
from migdoctor.run.collect import Collected, Measured, collect
from migdoctor.run.judge import judge
from migdoctor.run.request import Request, each_other
from migdoctor.transports import Host, TransportError
from migdoctor.transports.inventory import Inventory

UNREACHABLE = "kvm3: ssh to root@kvm3 failed: ssh: connect to host kvm3 port 22: Connection refused"


def spawned() -> threading.Event:
    started = threading.Event()
    started.set()
    return started


@dataclass
class FakeTransport:
    label: str
    spawned: threading.Event = field(default_factory=spawned)  # no process to wait for


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

    def fetch(transport, lookups, guests=None):
        calls.append((transport.label, lookups) if guests is None else (transport.label, lookups, guests))
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


def test_guests_are_asked_of_every_host_and_looked_up_per_judged_pair_only_when_the_run_asks(answered, monkeypatch):
    looked_up = []

    def guest_lookups(src, dst, src_facts, dst_facts):
        looked_up.append((src.label, dst.label))
        return {"web": {"cpu": {"result": "identical"}, "storage": []}}

    monkeypatch.setattr(guests_module, "guest_lookups", guest_lookups)
    labels = ["kvm1", "kvm2", "kvm3"]
    request = Request(
        [Host(label, "ssh", label) for label in labels], [("kvm1", "kvm2"), ("kvm1", "kvm3")], Inventory()
    )
    request.probe, request.guests = False, ("web",)

    gathered = collect(request)

    asked = {call[0]: call[2] for call in answered if len(call) == 3}
    assert asked == {"kvm1": GuestAsk(("web",), source=True), "kvm2": GuestAsk(("web",)), "kvm3": GuestAsk(("web",))}
    assert looked_up == [("kvm1", "kvm2")]  # kvm3 unreached: its pair is not judged
    assert gathered.measured[("kvm1", "kvm2")].guests == {"web": {"cpu": {"result": "identical"}, "storage": []}}
    assert ("kvm1", "kvm3") not in gathered.measured
    collect(fleet_request(labels, probe=False))
    assert len(looked_up) == 1 and all(len(call) == 2 for call in answered[3 + 2 :])


def test_an_unreachable_host_marks_its_pairs_not_checked_and_the_others_are_judged(answered):
    request = fleet_request(["kvm1", "kvm2", "kvm3"], probe=False)
    report = judge(request, collect(request), time.monotonic(), datetime.now(UTC))

    by_pair = {(pair["source"], pair["destination"]): pair for pair in report["pairs"]}
    assert by_pair[("kvm1", "kvm2")]["exit_status"] == 0 and by_pair[("kvm1", "kvm2")]["findings"]
    for lost in (("kvm1", "kvm3"), ("kvm3", "kvm2")):
        assert by_pair[lost]["exit_status"] == 2 and by_pair[lost]["not_checked"][0] == UNREACHABLE
    assert report["matrix"]["kvm3"]["kvm1"]["verdict"] == "not checked" and report["exit_status"] == 2


def test_no_host_sends_or_receives_two_probes_at_once_and_test_migrations_run_one_at_a_time(
    answered, fleet_facts, monkeypatch
):
    fleet_facts["kvm4"] = fleet_facts["kvm1"]
    sending, receiving = Counter[str](), Counter[str]()
    overlaps, at_once, trials = [], [], []
    lock, three_at_once = threading.Lock(), threading.Event()

    def probe_pair(src, dst, dst_facts, intent, measure):
        with lock:
            if sending[src.label] or receiving[dst.label]:
                overlaps.append((src.label, dst.label))
            sending[src.label] += 1
            receiving[dst.label] += 1
            at_once.append(sum(sending.values()))
        if at_once[-1] == 3:
            three_at_once.set()
        three_at_once.wait(5)  # the first pairs hold on until three run at once (a cycle of the hosts)
        with lock:
            sending[src.label] -= 1
            receiving[dst.label] -= 1
        return {"probed": [src.label, dst.label]}

    def trial_of(request, src, dst, src_facts, dst_facts):
        trials.append((src.label, dst.label))
        return {"legs": []}

    monkeypatch.setattr(collect_module, "probe_pair", probe_pair)
    monkeypatch.setattr(trial_module, "trial_of", trial_of)
    request = fleet_request(["kvm1", "kvm2", "kvm3", "kvm4"], trial=TrialOptions(128, None, False, 0.0))

    gathered = collect(request)

    assert overlaps == [] and len(at_once) == 6  # the 6 pairs of the 3 reached hosts
    assert max(at_once) == 3  # kvm1 -> kvm2, kvm2 -> kvm4, kvm4 -> kvm1: each host sends one, receives one
    assert trials == [pair for pair in request.pairs if "kvm3" not in pair]  # one after another, in order
    assert gathered.measured[("kvm1", "kvm2")].probe == {"probed": ["kvm1", "kvm2"]}
    assert gathered.measured[("kvm1", "kvm2")].trial == {"legs": []}


def test_one_host_sends_a_probe_only_after_its_last_one_ended(answered, fleet_facts, monkeypatch):
    fleet_facts["kvm4"] = fleet_facts["kvm1"]
    spans: dict[tuple[str, str], tuple[float, float]] = {}

    def probe_pair(src, dst, dst_facts, intent, measure):
        started = time.monotonic()
        time.sleep(0.05)
        spans[(src.label, dst.label)] = (started, time.monotonic())
        return None

    monkeypatch.setattr(collect_module, "probe_pair", probe_pair)
    collect(fleet_request(["kvm1", "kvm2", "kvm4"]))

    for (src, dst), (start, end) in spans.items():
        for (other_src, other_dst), (other_start, other_end) in spans.items():
            if (src, dst) != (other_src, other_dst) and (src == other_src or dst == other_dst):
                assert end <= other_start or other_end <= start, ((src, dst), (other_src, other_dst))


def test_the_peer_connections_all_run_at_once_beside_the_probes(answered, fleet_facts, monkeypatch):
    fleet_facts["kvm4"] = fleet_facts["kvm1"]
    all_six = threading.Barrier(6, timeout=5)  # broken, and raised, unless the six connect at once

    def run_peer_connection(src, uri):
        all_six.wait()
        return {"uri": uri, "from": src.label}

    monkeypatch.setattr(peer, "run_peer_connection", run_peer_connection)
    monkeypatch.setattr(
        collect_module, "probe_pair", lambda src, dst, dst_facts, intent, measure: {"probed": dst.label}
    )
    request = fleet_request(["kvm1", "kvm2", "kvm4"])
    request.hosts = [replace(host, libvirt_uri=f"qemu+ssh://root@{host.label}/system") for host in request.hosts]

    gathered = collect(request)

    assert gathered.measured[("kvm2", "kvm4")] == Measured(
        {"probed": "kvm4"}, {"uri": "qemu+ssh://root@kvm4/system", "from": "kvm2"}
    )
    assert len(gathered.measured) == 6


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


@pytest.fixture(params=[TrialRefused, TransportError], ids=["refused", "far-side-ended"])
def ending(request):
    """How a trial into kvm4 ends before it is done: refused, or its far side ended (all cleaned up)."""
    return request.param


@pytest.fixture
def kvm4_refuses(answered, fleet_facts, monkeypatch, ending):
    """kvm4 (the seed's destination again) refuses every trial into it; the others pass. The
    trials asked for are recorded."""
    fleet_facts["kvm4"] = fleet_facts["kvm3"]
    tried = []

    def trial_of(request, src, dst, src_facts, dst_facts):
        tried.append((src.label, dst.label))
        if dst.label == "kvm4":
            raise ending(REFUSED)
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
    refused, tried = expanded_pairs(report)
    assert refused["migration_trial"] == {"refused": REFUSED} and refused["measured_path"] is None
    assert "kvm1 -> kvm4: test migration refused: " + REFUSED in refused["not_checked"]
    (verdict,) = [f for f in refused["findings"] if f["id"] == "migration.test-migration"]
    assert verdict["status"] == "skip"
    assert verdict["summary"].startswith(f"test migration refused: {REFUSED}; ")
    assert "`migdoctor migrate-test kvm1 kvm4` tries it alone" in verdict["summary"]
    (passed,) = [f for f in tried["findings"] if f["id"] == "migration.test-migration"]
    assert passed["status"] == "pass" and tried["exit_status"] == 0
    assert tried["measured_path"][0]["source_link"] == "a-fast"
    assert refused["exit_status"] == report["exit_status"] == 1  # its static failures outrank "could not run"
    assert report["matrix"]["kvm1"]["kvm4"]["verdict"] == "fail"
    assert report["matrix"]["kvm1"]["kvm2"]["verdict"] == "pass"


def test_a_refused_trial_of_a_healthy_pair_is_not_checked_in_the_matrix(kvm4_refuses, fleet_facts):
    fleet_facts["kvm4"] = fleet_facts["kvm2"]
    request = evacuation_request("kvm2", "kvm4")
    report = judge(request, collect(request), time.monotonic(), datetime.now(UTC))

    assert report["matrix"]["kvm1"]["kvm4"]["verdict"] == "not checked" and report["pairs"][1]["exit_status"] == 2
    assert report["matrix"]["kvm1"]["kvm2"]["verdict"] == "pass" and report["exit_status"] == 2


def test_a_refused_trial_of_the_only_pair_still_ends_the_run(kvm4_refuses, ending):
    with pytest.raises(ending, match=REFUSED):
        collect(evacuation_request("kvm4"))
