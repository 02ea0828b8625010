"""The test migration's clean-up: "no such domain" is done, any other libvirt error (a dead
connection, a daemon gone) falls back to ending the canary's qemu through the transport; every
step and the whole clean-up are bounded in time even when a host hangs, and the notes list
exactly what could not be removed, host by host."""

import threading
import time
from pathlib import Path

import libvirt
import pytest

from migdoctor.actions import migration
from migdoctor.judging.carrier import busiest_link
from migdoctor.transports import Host, TransportError

NAME = "migdoctor-canary-t"
PAYLOAD = Path("/var/tmp/migdoctor-canary-t.payload")
HOSTA, HOSTB = Host("hosta", "ssh", "root@hosta"), Host("hostb", "ssh", "root@hostb")
FOREVER = threading.Event()


class LibvirtFailure(libvirt.libvirtError):
    def __init__(self, code: int, message: str) -> None:
        Exception.__init__(self, message)
        self.code, self.message = code, message

    def get_error_code(self) -> int:
        return self.code

    def get_error_message(self) -> str:
        return self.message


class Domain:
    def __init__(self, log: list[str], host: str) -> None:
        self.log, self.host = log, host

    def isPersistent(self) -> bool:
        return False

    def isActive(self) -> bool:
        return True

    def destroy(self) -> None:
        self.log.append(f"{self.host}: destroyed")


class Conn:
    """A libvirt connection that has the canary, lacks it, is dead, or hangs."""

    def __init__(self, host: str, state: str, log: list[str]) -> None:
        self.host, self.state, self.log = host, state, log

    def lookupByName(self, name: str) -> Domain:
        if self.state == "gone":
            raise LibvirtFailure(libvirt.VIR_ERR_NO_DOMAIN, f"Domain not found: no domain with matching name '{name}'")
        if self.state == "dead":
            raise LibvirtFailure(libvirt.VIR_ERR_SYSTEM_ERROR, "Cannot write data: Broken pipe")
        if self.state == "hangs":
            FOREVER.wait()
        return Domain(self.log, self.host)


@pytest.fixture
def agent(monkeypatch):
    """The far-side call stand-in: per host 'ok', 'fails' or 'hangs'; records what was asked."""
    behaviour: dict[str, str] = {}
    log: list[str] = []

    def call_afresh(host, name, /, **args):
        log.append(f"{host.label}: {name}")
        mode = behaviour.get(host.label, "ok")
        if mode == "hangs":
            FOREVER.wait()
        if mode == "fails":
            raise TransportError(f"{host.label}: ssh to {host.target} failed: Connection timed out")
        return {"killed": [4242]} if name == "canary-kill" else {"removed": args["path"]}

    monkeypatch.setattr(migration, "call_afresh", call_afresh)
    return behaviour, log


def clean(states: dict[str, str], log: list[str]) -> list[str]:
    return migration.clean_up(
        NAME, PAYLOAD, [(HOSTA, Conn("hosta", states["hosta"], log)), (HOSTB, Conn("hostb", states["hostb"], log))]
    )


def test_no_such_domain_is_clean_and_the_payloads_go(agent):
    _, calls = agent
    log: list[str] = []

    assert clean({"hosta": "gone", "hostb": "present"}, log) == []
    assert log == ["hostb: destroyed"]
    assert sorted(calls) == ["hosta: payload-remove", "hostb: payload-remove"]


def test_dead_connection_falls_back_to_ending_the_qemu(agent):
    _, calls = agent

    notes = clean({"hosta": "gone", "hostb": "dead"}, [])

    assert notes == ["hostb: libvirt unreachable (Cannot write data: Broken pipe); ended qemu [4242]"]
    assert "hostb: canary-kill" in calls


def test_what_could_not_be_removed_is_listed_exactly(agent):
    behaviour, _ = agent
    behaviour["hostb"] = "fails"

    notes = clean({"hosta": "gone", "hostb": "dead"}, [])

    assert notes == [
        "hostb: clean-up incomplete, remove by hand: canary migdoctor-canary-t (libvirt: Cannot write data: Broken "
        "pipe; ending its qemu: hostb: ssh to root@hostb failed: Connection timed out); payload "
        "/var/tmp/migdoctor-canary-t.payload (hostb: ssh to root@hostb failed: Connection timed out)"
    ]


@pytest.mark.parametrize(
    ("step", "whole", "note"),
    [
        (
            0.3,
            2.0,
            "hostb: clean-up incomplete, remove by hand: canary migdoctor-canary-t (libvirt: no answer within 0.3 s; "
            "ending its qemu: no answer within 0.3 s); payload /var/tmp/migdoctor-canary-t.payload (not tried: no "
            "answer within 0.3 s)",
        ),
        (
            5.0,
            0.5,
            "hostb: clean-up incomplete, remove canary migdoctor-canary-t and payload "
            "/var/tmp/migdoctor-canary-t.payload by hand: not finished within 0.5 s",
        ),
    ],
    ids=["each-step-bounded", "whole-clean-up-bounded"],
)
def test_a_host_that_hangs_costs_a_bounded_time_and_is_named(agent, monkeypatch, step, whole, note):
    behaviour, calls = agent
    behaviour["hostb"] = "hangs"
    monkeypatch.setattr(migration, "STEP_BUDGET_S", step)
    monkeypatch.setattr(migration, "CLEANUP_BUDGET_S", whole)
    started = time.monotonic()

    notes = clean({"hosta": "gone", "hostb": "hangs"}, [])

    assert time.monotonic() - started < whole + 0.5
    assert notes == [note]
    assert "hosta: payload-remove" in calls  # the other host was cleaned all the same


@pytest.mark.parametrize(
    "answer",
    [{"hello": 1}, [1], None, {"eth0": {"rx_bytes": "12", "tx_bytes": 3}}, {"eth0": {"rx_bytes": 1.5, "tx_bytes": 3}}],
    ids=["hello", "list", "null", "text-count", "float-count"],
)
def test_link_counters_that_are_not_counters_are_no_answer(answer):
    host = Answering(answer)

    assert migration.counters_of(host) == {}
    assert busiest_link({"eth0": {"rx_bytes": 0, "tx_bytes": 0}}, migration.counters_of(host), "tx_bytes") == (None, 0)


def test_link_counters_of_the_right_shape_are_kept():
    counters = {"lo": {"rx_bytes": 5, "tx_bytes": 5}, "b-fast": {"rx_bytes": 10, "tx_bytes": 20}}

    assert migration.counters_of(Answering(counters)) == counters


class Answering:
    """A far side that answers every call with ANSWER, whatever it is."""

    label = "hostb"

    def __init__(self, answer):
        self.answer = answer

    def call(self, name, /, **args):
        return self.answer
