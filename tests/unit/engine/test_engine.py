"""The engine: selecting checks, ignore marks and the exit status, checks that raise, and loading
drop-in check modules from --checks-dir."""

import dataclasses

import pytest

from migdoctor.checkapi import Check, Evidence, Outcome, Skip, Status, failed, passed
from migdoctor.engine import DiscoveryError, discover, run_check, run_checks, select
from migdoctor.judging.pair import Intent, MigrationNetwork, Pair
from migdoctor.report.document import EXIT_FAILED, EXIT_PASSED, exit_status, finding_record
from migdoctor.report.totals import totals

BUILTIN = discover()
PAIR = Pair(
    "hosta",
    "hostb",
    {"missing": [], "links": []},
    {"missing": [{"fact": "firewall", "reason": "neither nft nor iptables-save is installed"}], "firewall": None},
    Intent(MigrationNetwork.parse("198.51.100.0/24"), "test", False),
)
DROP_IN = '''\
"""Site rule: migration links run jumbo frames."""

from migdoctor.checkapi import Evidence, Registry, failed, passed

registry = Registry()


@registry.check("site.jumbo-frames", "Migration links run jumbo frames", "low", needs=("dst.links",))
def jumbo_frames(pair):
    small = [link["name"] for link in pair.dst["links"] if link["mtu"] < 9000]
    if small:
        return failed(f"{pair.dst_label}: MTU below 9000 on {', '.join(small)}", Evidence(pair.dst_label, "mtu", small))
    return passed("jumbo frames everywhere")
'''


def check(check_id, run, needs=()):
    return Check(check_id, "A check made for the test", "low", needs, run)


def fails(pair):
    return failed("it failed", Evidence(pair.dst_label, "thing", 1, 2), remediation="fix it")


def raises(pair):
    return Outcome(Status.PASS, str(pair.src["links"][0]["name"]))  # IndexError on an empty list of links


def skips(pair):
    raise Skip("hostb: nothing to judge")


SITE = [check("site.fails", fails), check("site.passes", lambda pair: passed("fine")), check("other.fails", fails)]


@pytest.mark.parametrize(
    ("only", "selected"),
    [
        (None, ["site.fails", "site.passes", "other.fails"]),
        (["site.passes"], ["site.passes"]),
        (["site"], ["site.fails", "site.passes"]),
        (["other", "site.passes"], ["site.passes", "other.fails"]),
    ],
    ids=["all", "by-id", "by-area", "mixed"],
)
def test_select_takes_ids_and_areas(only, selected):
    assert [c.id for c in select(SITE, only)] == selected


@pytest.mark.parametrize("only", [["sit"], ["site", "site.pases"]], ids=["area-typo", "id-typo"])
def test_select_refuses_a_name_that_selects_nothing(only):
    with pytest.raises(DiscoveryError) as raised:
        select(SITE, only)

    assert str(raised.value) == f"--only {only[-1]}: no check has that id or area (see `migdoctor checks`)"


def test_select_refuses_an_empty_selection():
    """`--only "$EMPTY"`: no name is no selection, never zero checks passing."""
    with pytest.raises(DiscoveryError) as raised:
        select(SITE, [])

    assert str(raised.value).startswith("--only selects no check (an empty value?)")


def test_select_by_area_over_the_builtin_checks():
    assert [c.id for c in select(BUILTIN, ["link"])] == ["link.state", "link.speed", "link.mtu", "link.path-mtu"]


@pytest.mark.parametrize(
    ("ignored", "marked"),
    [({"site.fails"}, [True, False]), ({"site"}, [True, True])],
    ids=["by-id", "by-area"],
)
def test_ignored_failure_is_kept_marked_and_does_not_fail_the_run(ignored, marked):
    findings = run_checks(SITE[:2], PAIR, ignored)
    records = [finding_record(f) for f in findings]

    assert [(f.id, f.status, f.ignored) for f in findings] == [
        ("site.fails", Status.FAIL, marked[0]),
        ("site.passes", Status.PASS, marked[1]),
    ]
    assert (findings[0].summary, findings[0].remediation) == ("it failed", "fix it")
    assert exit_status(records, could_not_run=False) == EXIT_PASSED
    assert (totals(records)["fail"], totals(records)["ignored"]) == (0, sum(marked))


def test_failure_not_ignored_fails_the_run():
    records = [finding_record(f) for f in run_checks(SITE, PAIR, {"site.fails"})]

    assert exit_status(records, could_not_run=False) == EXIT_FAILED
    assert totals(records) == {"pass": 1, "warn": 0, "fail": 1, "skip": 0, "error": 0, "ignored": 1}


def test_check_that_raises_becomes_error_and_the_rest_still_run():
    findings = run_checks([check("site.raises", raises), *SITE], PAIR, set())

    assert [f.status for f in findings] == [Status.ERROR, Status.FAIL, Status.PASS, Status.FAIL]
    assert findings[0].summary == "check raised IndexError: list index out of range"
    assert exit_status([finding_record(f) for f in findings[:1]], could_not_run=False) == EXIT_FAILED


def test_skip_raised_in_a_check_is_a_skip_with_its_message():
    finding = run_check(check("site.skips", skips), PAIR, set())

    assert (finding.status, finding.summary) == (Status.SKIP, "hostb: nothing to judge")


def test_missing_needs_skip_without_running_the_check():
    def must_not_run(pair):
        raise AssertionError("ran without its facts")

    finding = run_check(check("site.needs", must_not_run, needs=("dst.firewall", "src.routes")), PAIR, set())

    assert finding.status == Status.SKIP
    assert finding.summary == (
        "hostb: firewall not collected: neither nft nor iptables-save is installed; hosta: routes not collected"
    )


def test_drop_in_module_is_loaded_and_run(tmp_path):
    (tmp_path / "site.py").write_text(DROP_IN)

    checks = discover(str(tmp_path))
    dropped = checks[-1]
    lean = Pair("hosta", "hostb", {}, {"links": [{"name": "b-fast", "mtu": 1500}]}, PAIR.intent)
    finding = run_check(dropped, lean, set())

    assert [c.id for c in checks[:-1]] == [c.id for c in BUILTIN]
    assert (dropped.id, dropped.area, dropped.origin) == ("site.jumbo-frames", "site", f"file {tmp_path / 'site.py'}")
    assert (finding.status, finding.summary, finding.origin) == (
        Status.FAIL,
        "hostb: MTU below 9000 on b-fast",
        dropped.origin,
    )


@pytest.mark.parametrize(
    ("source", "error"),
    [
        ("from migdoctor.checkapi import Registry\nregistry = Registry(\n", "SyntaxError: '(' was never closed"),
        ("import migdoctor_site_helpers\n", "ModuleNotFoundError: No module named 'migdoctor_site_helpers'"),
        ("CHECKS = []\n", "module has no 'registry = Registry()' of checks"),
    ],
    ids=["syntax-error", "import-error", "no-registry"],
)
def test_broken_drop_in_is_one_line_naming_the_file(tmp_path, source, error):
    (tmp_path / "good.py").write_text(DROP_IN)
    broken = tmp_path / "zz_broken.py"
    broken.write_text(source)

    with pytest.raises(DiscoveryError) as raised:
        discover(str(tmp_path))

    message = str(raised.value)
    assert "\n" not in message
    assert str(broken) in message and error in message


def test_checks_dir_that_is_not_a_directory_is_refused(tmp_path):
    with pytest.raises(DiscoveryError, match="--checks-dir is not a directory"):
        discover(str(tmp_path / "missing"))


def test_drop_in_reusing_a_builtin_id_is_refused(tmp_path):
    (tmp_path / "mtu.py").write_text(DROP_IN.replace("site.jumbo-frames", "link.mtu"))

    with pytest.raises(DiscoveryError) as raised:
        discover(str(tmp_path))

    assert str(raised.value) == f"check id 'link.mtu' is declared twice: built-in and file {tmp_path / 'mtu.py'}"


def test_two_drop_ins_with_one_id_are_refused(tmp_path):
    (tmp_path / "a.py").write_text(DROP_IN)
    (tmp_path / "b.py").write_text(DROP_IN)

    with pytest.raises(DiscoveryError, match=r"'site.jumbo-frames' is declared twice: file .*a\.py and file .*b\.py"):
        discover(str(tmp_path))


@pytest.mark.parametrize(
    ("change", "error"),
    [
        (("site.jumbo-frames", "Site_Jumbo"), "check id 'Site_Jumbo' is not of the form area.name"),
        (('"low"', '"urgent"'), "site.jumbo-frames: severity 'urgent' is not one of critical, high, medium, low"),
        (('needs=("dst.links",)', 'needs=("dst.linx",)'), "site.jumbo-frames: need 'dst.linx' is not src.|dst."),
        (('needs=("dst.links",)', 'needs="dst.links"'), "site.jumbo-frames: needs must be a tuple of strings"),
        (
            ('"Migration links run jumbo frames"', '""'),
            "site.jumbo-frames: title must be a non-empty line of printable",
        ),
        (
            ('"Migration links run jumbo frames"', '"Jumbo\\x1b[2J"'),
            "site.jumbo-frames: title must be a non-empty line",
        ),
        (
            ('needs=("dst.links",)', 'needs=("dst.links",), scope="host"'),
            "site.jumbo-frames: scope 'host' is not one of",
        ),
        (
            ('needs=("dst.links",)', 'needs=("src.links",), scope="destination"'),
            "site.jumbo-frames: a check of the destination alone cannot need the source's facts",
        ),
        (("registry = Registry()\n", "registry = Registry()\nimport sys\nsys.exit(0)\n"), "SystemExit: 0"),
        (("registry = Registry()\n", "registry = Registry()\nraise GeneratorExit\n"), "GeneratorExit"),
    ],
    ids=[
        "id",
        "severity",
        "unknown-need",
        "needs-not-tuple",
        "empty-title",
        "escape-in-title",
        "unknown-scope",
        "destination-scope-needing-the-source",
        "sys-exit-at-import",
        "base-exception",
    ],
)
def test_drop_in_metadata_is_held_to_the_contract_at_load(tmp_path, change, error):
    path = tmp_path / "site.py"
    path.write_text(DROP_IN.replace(*change))

    with pytest.raises(DiscoveryError) as raised:
        discover(str(tmp_path))

    message = str(raised.value)
    assert "\n" not in message and str(path) in message and error in message


def test_drop_in_stuck_at_import_is_one_line_naming_the_file(tmp_path, monkeypatch):
    from migdoctor import engine

    monkeypatch.setattr(engine, "IMPORT_BUDGET_S", 0.3)
    path = tmp_path / "site.py"
    path.write_text("while True:\n    pass\n")

    with pytest.raises(DiscoveryError) as raised:
        discover(str(tmp_path))

    assert str(raised.value) == f"{path}: ImportTooLong: still importing after 0.3 s"


def test_evidence_lists_come_back_as_plain_copies_and_non_json_inside_them_is_still_refused():
    from migdoctor.engine import ContractError, as_json
    from migdoctor.frozen import freeze

    kinds = freeze(["kvm", "qemu"])
    copied = as_json(kinds, "evidence 'hypervisor kinds'")
    assert copied == ["kvm", "qemu"] and type(copied) is list and copied is not kinds
    assert as_json(freeze([{"a": [1, None]}]), "x") == [{"a": [1, None]}]
    with pytest.raises(ContractError, match="evidence 'rate' is not JSON"):
        as_json([1.0, float("nan")], "evidence 'rate'")


def test_a_check_of_the_destination_alone_sees_no_source_and_reading_it_is_an_error():
    def names_the_source(pair):
        return passed(f"{pair.src_label} -> {pair.dst_label}")

    def reads_the_source(pair):
        return passed(str(pair.src["links"]))

    named = run_check(dataclasses.replace(check("site.named", names_the_source), scope="destination"), PAIR, set())
    read = run_check(dataclasses.replace(check("site.read", reads_the_source), scope="destination"), PAIR, set())

    assert (named.status, named.summary) == (Status.PASS, f"the source -> {PAIR.dst_label}")
    assert (read.status, read.summary) == (Status.ERROR, "check raised KeyError: 'links'")
