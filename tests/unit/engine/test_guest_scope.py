"""Checks of scope "guest": their needs may name the guest's entry and its look-ups, a pair run
leaves them out, and engine.judge_guest judges them as a pair's checks are judged (a missing fact
SKIPs naming it, a raising check is an ERROR naming it, the facts are read-only)."""

import dataclasses

import pytest

from migdoctor.checkapi import Check, Status, passed
from migdoctor.engine import DiscoveryError, discover, judge_guest, metadata_problem, pair_checks
from migdoctor.judging.guest import GuestCase

SITE = '''\
"""Site rule: guests keep their memory below 64 GiB."""

from migdoctor.checkapi import Registry, failed, passed

registry = Registry()


@registry.check("site.small-guests", "Guests are small", "low", needs=NEEDS, scope=SCOPE)
def small(case):
    if case.guest["memory_kib"] > 64 * 1024 * 1024:
        return failed(f"{case.name} is large")
    return passed(f"{case.name} is small")
'''
CASE = GuestCase(
    {"name": "db", "xml": "<domain type='kvm'><name>db</name></domain>", "memory_kib": 1024},
    {"missing": []},
    {"missing": [{"fact": "virt", "reason": "libvirtError: authentication unavailable"}], "virt": None},
    "hosta",
    "hostb",
    {},
)


def site_check(tmp_path, needs, scope):
    (tmp_path / "site.py").write_text(SITE.replace("NEEDS", repr(needs)).replace("SCOPE", repr(scope)))
    return discover(str(tmp_path))


def test_a_guest_check_may_need_the_guests_entry_its_look_ups_and_the_virt_facts(tmp_path):
    needs = ("guest.memory_kib", "lookups.cpu", "dst.virt.free_memory_bytes")

    (check,) = [c for c in site_check(tmp_path, needs, "guest") if c.id == "site.small-guests"]

    assert check.scope == "guest" and check.needs == needs


@pytest.mark.parametrize("need", ["guest.memory_kib", "lookups.cpu"])
def test_a_pair_check_needing_what_only_guests_have_fails_discovery_naming_it(tmp_path, need):
    with pytest.raises(DiscoveryError) as raised:
        site_check(tmp_path, (need,), "pair")

    assert f"site.small-guests: need {need!r} is not src.|dst." in str(raised.value)


def test_a_pair_run_leaves_the_guest_checks_out():
    checks = discover()

    assert {c.scope for c in pair_checks(checks)} == {"pair", "destination"}
    assert [c.id for c in checks if c not in pair_checks(checks)] == [c.id for c in checks if c.area == "guest"]


def guest_check(run, needs=()):
    return Check("site.guest", "A guest check made for the test", "low", needs, run, scope="guest")


def test_judge_guest_judges_only_guest_checks_and_skips_naming_what_is_missing():
    pair_check = Check("site.pair", "A pair check", "low", (), lambda pair: passed("pair"))
    checks = [pair_check, guest_check(lambda case: passed(f"{case.name} ok"), ("dst.virt.free_memory_bytes",))]

    (finding,) = judge_guest(checks, CASE, set())

    assert (finding.id, finding.status) == ("site.guest", Status.SKIP)
    assert finding.summary == "hostb: virt not collected: libvirtError: authentication unavailable"


@pytest.mark.parametrize(
    ("need", "reason"),
    [
        ("guest.snapshots", "hosta: guest db's snapshots not collected"),
        ("lookups.storage", "no storage look-up for guest db from hosta to hostb"),
    ],
)
def test_a_guest_entry_or_look_up_that_is_missing_skips_naming_it(need, reason):
    (finding,) = judge_guest([guest_check(lambda case: passed("never"), (need,))], CASE, set())

    assert (finding.status, finding.summary) == (Status.SKIP, reason)


def test_a_raising_guest_check_is_an_error_and_the_facts_are_read_only():
    def changes(case):
        case.guest["memory_kib"] = 0
        return passed("changed")

    def raises(case):
        raise KeyError("cpu")

    changed, raised = judge_guest(
        [guest_check(changes), dataclasses.replace(guest_check(raises), id="site.raises")], CASE, {"site.raises"}
    )

    assert changed.status == Status.ERROR and "read-only" in changed.summary
    assert (raised.status, raised.summary, raised.ignored) == (Status.ERROR, "check raised KeyError: 'cpu'", True)
    assert CASE.guest["memory_kib"] == 1024


def test_guest_scope_is_a_scope_the_contract_knows():
    assert metadata_problem(guest_check(lambda case: passed("ok"), ("guest.xml",))) is None
