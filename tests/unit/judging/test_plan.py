"""The evacuation plan: first fit by memory in the guests' order, only where a guest's verdict is
pass or warn and the destination's free memory, less the guests placed there before, holds it."""

from migdoctor.judging.plan import plan_evacuation

GiB = 1024**3
STORAGE = {
    "id": "guest.storage",
    "status": "fail",
    "summary": "scratch's vda is not on storage hostb sees",
}


def entry(name, destination, verdict="pass", memory=GiB, free=4 * GiB, findings=()):
    return {
        "name": name,
        "source": "hosta",
        "destination": destination,
        "verdict": verdict,
        "findings": list(findings),
        "memory_bytes": memory,
        "free_memory_bytes": free,
    }


def test_guests_go_to_the_first_destination_that_takes_them():
    plan = plan_evacuation([entry("web", "hostb"), entry("web", "hostc"), entry("db", "hostb"), entry("db", "hostc")])

    assert plan == [
        {"guest": "web", "destination": "hostb", "reason": None},
        {"guest": "db", "destination": "hostb", "reason": None},
    ]


def test_a_destination_filled_by_earlier_guests_passes_the_next_on():
    entries = [entry(name, dst, memory=3 * GiB) for name in ("web", "db") for dst in ("hostb", "hostc")]

    assert [item["destination"] for item in plan_evacuation(entries)] == ["hostb", "hostc"]


def test_a_warning_places_a_guest_and_a_failure_does_not():
    plan = plan_evacuation(
        [entry("web", "hostb", verdict="warn"), entry("scratch", "hostb", verdict="fail", findings=[STORAGE])]
    )

    assert plan[0] == {"guest": "web", "destination": "hostb", "reason": None}
    assert plan[1] == {
        "guest": "scratch",
        "destination": None,
        "reason": "hostb: fail (guest.storage: scratch's vda is not on storage hostb sees)",
    }


def test_a_guest_that_fits_nowhere_gets_each_destinations_reason():
    entries = [
        entry("big", "hostb", memory=8 * GiB),
        entry("big", "hostc", verdict="not checked"),
        entry("big", "hostd", free=None),
    ]

    (item,) = plan_evacuation(entries)

    assert item["destination"] is None
    assert item["reason"] == (
        "hostb: 4 GiB free after the guests planned there; needs 8 GiB; hostc: not checked; "
        "hostd: its free memory was not collected"
    )
