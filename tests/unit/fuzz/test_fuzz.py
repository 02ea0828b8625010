"""Fuzzing as a test (hypothesis): facts records, inventories, saved facts and reports (deep
nesting included) and config texts, mutated at random, must give a valid report or a clean one-line
rejection, never a crash or a hang (an example still running after HANG_S fails as Hang); the
built-in checks judged here must never raise on a schema-valid record.

The profiles are tests/conftest.py's: "ci" by default (derandomized, the same examples on every
run: a property test must not be a flake); `--hypothesis-profile fuzz` or HYPOTHESIS_PROFILE=fuzz
explores 2,000 random examples per property. A failure found this way is kept as a regular test
beside the code it broke (test_sandbox, test_config, test_facts_admission, test_safe_output,
test_validate_first, test_specs, test_host_text)."""

from __future__ import annotations

import copy
import dataclasses
import io
import json
import os
import tempfile
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, redirect_stderr
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import tomli_w
import typer
from check_records import leg, probe_record, trial
from hypothesis import Phase, assume, given, settings
from hypothesis import strategies as st
from rich.console import Console
from tls_records import HOSTA_NAMES, HOSTB_NAMES, with_tls

from migdoctor.checkapi import Status
from migdoctor.cli.report import read_report
from migdoctor.engine import Finding, alarm, builtin_checks, discover, pair_checks
from migdoctor.frozen import freeze
from migdoctor.judging.path import describe_path, intended_links, measured_path, predict_path
from migdoctor.parsers import ParseError
from migdoctor.parsers.libvirt_conf import parse_libvirt_conf
from migdoctor.parsers.sxp import parse_xend_config
from migdoctor.parsers.xl_conf import parse_xl_conf
from migdoctor.report.diff import RENDERERS as DIFF_RENDERERS
from migdoctor.report.diff import NotComparable, compare
from migdoctor.report.document import validate_report
from migdoctor.report.json_writer import json_chunks
from migdoctor.report.markdown import render_markdown
from migdoctor.report.safe import printable
from migdoctor.report.text import render_text
from migdoctor.report.writers import RenderOptions, writer
from migdoctor.run.collect import Collected, Gathered, Measured
from migdoctor.run.intent import decide_intent
from migdoctor.run.judge import PairJob, in_this_process, judge, pair_of
from migdoctor.run.lookups import destination_lookups, source_lookups
from migdoctor.run.request import Request
from migdoctor.run.saved import read_facts
from migdoctor.schemas import facts_problem
from migdoctor.transports import Host, TransportError, resolve_host
from migdoctor.transports.inventory import Inventory, InventoryError, parse_inventory

DATA = Path(__file__).parents[2] / "data"
FACTS = {
    name: json.loads((DATA / "facts" / f"{name}-report.json").read_text(encoding="utf-8"))["facts"]
    for name in ("seed", "healthy")
}
QEMU_CONF = (DATA / "parsers" / "qemu.conf").read_text(encoding="utf-8")
HOSTILE_TEXT = ["[/]", "\x1b[2J", "", "99999999999", "-1", "::", "0.0.0.0", "a" * 300, "x\ny", "198.51.100.0/33"]
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.sampled_from([0, 1, 65535, 65536, 10**11, -(2**63), 2**64])
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.sampled_from(HOSTILE_TEXT)
    | st.text(max_size=12)
)
JSON = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=6,
)


@st.composite
def mutated(draw: st.DrawFn, document: Any, max_mutations: int = 3) -> Any:
    """DOCUMENT with a few values replaced, keys deleted or added, anywhere in it."""
    document = copy.deepcopy(document)
    for _ in range(draw(st.integers(1, max_mutations))):
        parent, key = None, None
        node = document
        while isinstance(node, dict | list) and node and draw(st.integers(0, 4)):
            key = draw(st.sampled_from(sorted(node) if isinstance(node, dict) else range(len(node))))
            parent, node = node, node[key]
        if parent is None:
            continue
        action = draw(st.sampled_from(["replace", "delete", "add"]))
        if action == "replace":
            parent[key] = draw(JSON)
        elif action == "delete" and isinstance(parent, dict):
            del parent[key]
        elif isinstance(parent, dict):
            parent[draw(st.text(max_size=8))] = draw(JSON)
        else:
            parent.append(draw(JSON))
    return document


def one_line(message: str) -> None:
    assert message and "\n" not in message and "Traceback" not in message, message


HANG_S = 30.0
DISCOVERED = discover()


class Hang(Exception):
    """An example still running after HANG_S: a hang, reported with the example that caused it."""


def no_hang(seconds: float = HANG_S) -> AbstractContextManager[None]:
    return alarm(seconds, lambda limit: Hang(f"still running after {limit:g} s"))


def judged(src: dict[str, Any] | None, dst: dict[str, Any] | None, network: str | None) -> dict[str, Any]:
    """What `migdoctor check` does with two facts records it admitted (or could not get)."""
    request = Request.pair(
        Host("hosta", "local"), Host("hostb", "ssh", "hostb"), Inventory(), migration_network=network
    )
    request.checks = DISCOVERED  # found once: discovery's import alarm would cancel no_hang's
    intent = decide_intent(request, "hostb", dst)
    if dst is not None:
        source_lookups(dst, intent, "qemu+ssh://root@hostb/system")
    if src is not None:
        destination_lookups(src, intent)
    sides = {
        "hosta": Collected(src, None if src else "hosta: rejected"),
        "hostb": Collected(dst, None if dst else "hostb: rejected"),
    }
    report = judge(
        request,
        Gathered(sides, {"hostb": intent}),
        time.monotonic(),
        datetime.now(UTC),
    )
    validate_report(report)
    render_text(report, Console(file=open(os.devnull, "w"), width=200))  # noqa: SIM115
    render_markdown(report)
    b"".join(json_chunks(report))
    return report


def admitted(record: Any) -> dict[str, Any] | None:
    problem = facts_problem(record)
    if problem:
        one_line(problem)
        return None
    return record


@given(st.data())
def test_mutated_facts_give_a_valid_report_or_a_one_line_rejection(data: st.DataObject) -> None:
    facts = FACTS[data.draw(st.sampled_from(sorted(FACTS)))]
    side = data.draw(st.sampled_from(["source", "destination"]))
    record = admitted(data.draw(mutated(facts[side])))
    other = facts["destination" if side == "source" else "source"]
    src, dst = (record, other) if side == "source" else (other, record)
    network = data.draw(st.sampled_from([None, "198.51.100.0/24", "192.0.2.0/24", "2001:db8::/64"]))

    with no_hang():
        report = judged(src, dst, network)

    assert report["exit_status"] in (0, 1, 2, 3)  # 3: a mutation left the path unknown
    assert (report["exit_status"] == 2) == (record is None)


@given(st.data())
def test_mutated_inventories_parse_or_are_one_line_errors(data: st.DataObject) -> None:
    base = {
        "defaults": {"migration_network": "198.51.100.0/24"},
        "hosts": {
            "kvm1": {"transport": "ssh://root@kvm1:2222", "libvirt_uri": "qemu+ssh://root@kvm1/system"},
            "kvm2": {"transport": "lab:hostb", "remote_command": "/opt/migdoctor/bin/migdoctor"},
        },
    }
    document = data.draw(mutated(base))
    try:
        text = tomli_w.dumps(document)
    except (TypeError, ValueError):  # not representable in TOML (None, mixed arrays): nothing to parse
        return
    with no_hang():
        try:
            inventory = parse_inventory(text, "inv.toml")
        except InventoryError as exc:
            one_line(str(exc))
            assert str(exc).startswith("inv.toml: ")
            return
        for name in inventory.hosts:
            try:
                resolve_host(name, inventory)
            except TransportError as exc:
                one_line(str(exc))


@given(
    st.text(max_size=200)
    | st.builds(lambda a, b: a + b, st.sampled_from(QEMU_CONF.splitlines(True)[:200]), st.text(max_size=40))
)
def test_random_config_text_parses_or_is_one_line_parse_error(text: str) -> None:
    for parse in (parse_libvirt_conf, parse_xl_conf, parse_xend_config):
        try:
            with no_hang():
                parse(text, "/etc/x.conf")
        except ParseError as exc:
            one_line(str(exc))
            assert "/etc/x.conf" in str(exc)


@given(st.data())
def test_qemu_conf_text_as_a_host_may_hold_it_is_judged(data: st.DataObject) -> None:
    """A qemu.conf with migration settings of any type and size, parsed and judged end to end."""
    key = data.draw(
        st.sampled_from(["migration_port_min", "migration_port_max", "migration_host", "migration_address", "user"])
    )
    value = data.draw(
        st.sampled_from(['"abc"', "[ 1, 2 ]", "99999999999", "-5", '""', '"[/]\\u001b"', "0", '[ "a", "b" ]', "65536"])
        | st.integers().map(str)
    )
    try:
        values = parse_libvirt_conf(f"{key} = {value}\n", "/etc/libvirt/qemu.conf")
    except ParseError as exc:
        one_line(str(exc))
        return
    dst = copy.deepcopy(FACTS["healthy"]["destination"])
    dst["config"]["qemu_conf"]["values"].update(values)
    if admitted(dst) is None:
        return

    with no_hang():
        report = judged(FACTS["healthy"]["source"], dst, "198.51.100.0/24")

    assert all(f["status"] != "error" for f in report["pairs"][0]["findings"]), [
        f["summary"] for f in report["pairs"][0]["findings"] if f["status"] == "error"
    ]


CAPTURED = {
    path.name.removesuffix("-report.json"): json.loads(path.read_text(encoding="utf-8"))["facts"]
    for path in sorted((DATA / "facts").glob("*-report.json"))
}
JUDGED_HERE = [check for check in pair_checks(builtin_checks()) if check.area != "firewall"]


def same_kind(value: Any) -> st.SearchStrategy[Any]:
    """A value of VALUE's JSON type (most stay schema-valid): the malformed-but-valid a host gives."""
    if isinstance(value, bool):
        return st.booleans()
    if isinstance(value, int | float):
        return st.sampled_from([0, -1, 1, 65535, 65536, 2**31, 2**64, -(2**63)]) | st.integers()
    if isinstance(value, str):
        return st.sampled_from([*HOSTILE_TEXT, value.upper(), value + value]) | st.text(max_size=12)
    if isinstance(value, list):
        return st.sampled_from([[], value[:1], value[::-1], value + value[:1]])
    if isinstance(value, dict):
        return st.sampled_from([{}, *({k: v for k, v in value.items() if k != gone} for gone in value)])
    return JSON


@st.composite
def reshaped(draw: st.DrawFn, document: Any, max_changes: int = 4) -> Any:
    """DOCUMENT with a few parts replaced by others of their kind, or by any JSON (mutated)."""
    if draw(st.integers(0, 3)) == 0:
        return draw(mutated(document, max_changes))
    document = copy.deepcopy(document)
    for _ in range(draw(st.integers(1, max_changes))):
        parent: Any = None
        key: Any = None
        node = document
        while isinstance(node, dict | list) and node and draw(st.integers(0, 5)):
            key = draw(st.sampled_from(sorted(node) if isinstance(node, dict) else range(len(node))))
            parent, node = node, node[key]
        if parent is not None:
            parent[key] = draw(same_kind(node))
    return document


def with_every_part(facts: dict[str, Any]) -> dict[str, Any]:
    """A captured pair given what the lab's KVM records lack, so every check judges something:
    TLS files on both hosts, a xend-config.sxp on the destination, the source's peer connection."""
    facts = copy.deepcopy(facts)
    with_tls(facts["source"], "hosta", HOSTA_NAMES)
    with_tls(facts["destination"], "hostb", HOSTB_NAMES)
    facts["destination"]["config"]["xend_config"] = {
        "path": "/etc/xen/xend-config.sxp",
        "present": True,
        "values": parse_xend_config(XEND_CONFIG, "/etc/xen/xend-config.sxp"),
    }
    facts["source"]["peer_connection"] = json.loads((DATA / "peer" / "tls-ok.json").read_text(encoding="utf-8"))
    return facts


XEND_CONFIG = "(xend-relocation-server yes)\n(xend-relocation-port 8002)\n(xend-relocation-address '198.51.100.2')\n"
COMPLETE = {name: with_every_part(facts) for name, facts in CAPTURED.items()}
TRIAL = trial(leg(), leg("b-fast", "a-fast", **{"from": "hostb", "to": "hosta"}))


def judged_here(
    src: dict[str, Any], dst: dict[str, Any], network: str | None, measured: Measured | None = None, **intended: Any
) -> list[Finding]:
    """The findings of JUDGED_HERE over the pair, and its path, judged in this process; INTENDED:
    the intent's options (dst_libvirt_uri, min_link_speed_mbps)."""
    request = Request.pair(Host("hosta", "local"), Host("hostb", "local"), Inventory(), migration_network=network)
    intent = dataclasses.replace(decide_intent(request, "hostb", dst), **intended)
    source_lookups(dst, intent, "qemu+ssh://root@hostb/system")
    destination_lookups(src, intent)
    job = PairJob("hosta", "hostb", Collected(freeze(src)), Collected(freeze(dst)), intent, measured or Measured())
    pair = pair_of(job)
    assert pair is not None
    describe_path(pair, predict_path(pair))
    intended_links(pair)
    measured_path(pair)
    return in_this_process(JUDGED_HERE, pair, set())


@given(st.data())
def test_builtin_checks_never_raise_on_schema_valid_facts(data: st.DataObject) -> None:
    """A malformed field of a schema-valid record is a WARN or FAIL naming it, never an ERROR."""
    facts = data.draw(st.sampled_from([CAPTURED, COMPLETE]))[data.draw(st.sampled_from(sorted(CAPTURED)))]
    src, dst = facts["source"], facts["destination"]
    if data.draw(st.booleans()):
        src = data.draw(reshaped(src))
    if data.draw(st.booleans()):
        dst = data.draw(reshaped(dst))
    assume(facts_problem(src) is None and facts_problem(dst) is None)
    network = data.draw(st.sampled_from([None, "198.51.100.0/24", "192.0.2.0/24", "2001:db8::/64"]))
    measured = Measured(
        probe=data.draw(st.sampled_from([None, probe_record(), probe_record(error="connection refused")])),
        trial=data.draw(st.sampled_from([None, TRIAL])),
    )

    uri = data.draw(st.sampled_from([None, "qemu+ssh://root@hostb/system", "qemu+tls://hostb.lab.test/system"]))
    speed = data.draw(st.sampled_from([None, 1000, 10**6]))

    with no_hang():
        findings = judged_here(src, dst, network, measured, dst_libvirt_uri=uri, min_link_speed_mbps=speed)

    errors = [f"{f.id}: {f.summary}" for f in findings if f.status == Status.ERROR]
    assert not errors, errors


def rejected_in_one_line(load: Callable[[], Any]) -> Any:
    """LOAD()'s result, or None when it refused its input in one line as the CLI prints it (a
    ValueError, or the CLI's own line on stderr and exit 2); anything else escapes and fails."""
    stderr = io.StringIO()
    try:
        with redirect_stderr(stderr):
            return load()
    except (ValueError, InventoryError) as exc:
        one_line(printable(str(exc)))
    except typer.Exit as exc:
        assert exc.exit_code == 2, exc.exit_code
        one_line(stderr.getvalue().rstrip("\n"))
    return None


def saved(text: str) -> Path:
    handle, name = tempfile.mkstemp(suffix=".json")
    with os.fdopen(handle, "w", encoding="utf-8") as file:
        file.write(text)
    return Path(name)


@given(st.data())
def test_saved_facts_load_or_are_one_line_errors(data: st.DataObject) -> None:
    facts = CAPTURED[data.draw(st.sampled_from(sorted(CAPTURED)))]
    record = data.draw(reshaped(facts["destination"]))
    path = saved(json.dumps(record))
    try:
        with no_hang():
            loaded = rejected_in_one_line(lambda: read_facts(path, "hostb"))
            if loaded is not None:
                judged(facts["source"], loaded, "198.51.100.0/24")
    finally:
        path.unlink()


REPORTS = {name: judged(facts["source"], facts["destination"], None) for name, facts in CAPTURED.items()}


def rendered_and_compared(original: dict[str, Any], report: dict[str, Any]) -> None:
    """REPORT saved, loaded as `migdoctor report` loads it, rendered in every format and compared
    with ORIGINAL; or refused in one line."""
    path = saved(json.dumps(report))
    try:
        with no_hang():
            loaded = rejected_in_one_line(lambda: read_report(path))
            if loaded is None:
                return
            for name in ("text", "json", "markdown", "html", "junit"):
                writer(name).render(loaded, RenderOptions())
            try:
                diff = compare(original, loaded)
            except NotComparable as exc:
                one_line(printable(str(exc)))  # as `report diff` prints it
                return
            for render in DIFF_RENDERERS.values():
                render(diff)
    finally:
        path.unlink()


def names_its_hosts(report: dict[str, Any]) -> bool:
    """Whether every pair of REPORT names hosts it holds (what the schema cannot say)."""
    hosts = report.get("hosts")
    pairs = report.get("pairs")
    if not isinstance(hosts, dict) or not isinstance(pairs, list):
        return True
    named = [pair.get(side) for pair in pairs if isinstance(pair, dict) for side in ("source", "destination")]
    return all(not isinstance(name, str) or name in hosts for name in named)


@given(st.data())
def test_saved_reports_render_and_compare_or_are_one_line_errors(data: st.DataObject) -> None:
    original = REPORTS[data.draw(st.sampled_from(sorted(REPORTS)))]
    report = data.draw(reshaped(json.loads(json.dumps(original))))
    assume(names_its_hosts(report))  # one that does not: test_saved_reports_naming_hosts_they_lack_...

    rendered_and_compared(original, report)


@given(st.data())
def test_saved_reports_naming_hosts_they_lack_are_one_line_errors(data: st.DataObject) -> None:
    original = REPORTS[data.draw(st.sampled_from(sorted(REPORTS)))]
    report = json.loads(json.dumps(original))
    gone = data.draw(st.sampled_from(sorted(report["hosts"])))
    report["hosts"][data.draw(st.sampled_from([gone + "x", gone.upper()]))] = report["hosts"].pop(gone)

    rendered_and_compared(original, report)


def nested(depth: int, inner: str = "1") -> str:
    return "[" * depth + inner + "]" * depth


def deep_inventory(depth: int) -> None:
    text = f'[hosts.kvm1]\ntransport = "local"\nlabels = {nested(depth)}\n'
    rejected_in_one_line(lambda: parse_inventory(text, "inv.toml"))


def deep_facts(depth: int) -> None:
    text = json.dumps(CAPTURED["seed"]["destination"]).replace('"links": [', f'"links": [{nested(depth)}, ', 1)
    path = saved(text)
    try:
        rejected_in_one_line(lambda: read_facts(path, "hostb"))
    finally:
        path.unlink()


def deep_report(depth: int) -> None:
    """A saved report whose facts (opaque to the report schema) hold deep nesting, rendered."""
    path = saved(json.dumps({**REPORTS["seed"], "facts": {"hosta": {"x": "DEEP"}}}).replace('"DEEP"', nested(depth)))
    try:
        loaded = rejected_in_one_line(lambda: read_report(path))
        if loaded is not None:
            for name in ("text", "json", "markdown", "html", "junit"):
                writer(name).render(loaded, RenderOptions())
    finally:
        path.unlink()


@pytest.mark.parametrize(
    "load",
    [
        deep_facts,
        deep_inventory,
        deep_report,
    ],
)
@settings(phases=(Phase.explicit, Phase.reuse, Phase.generate))  # the depth is the example: nothing to shrink
@given(depth=st.sampled_from([300, 1000, 5000, 100_000]) | st.integers(1, 3000))
def test_deeply_nested_input_is_refused_in_one_line(load: Callable[[int], None], depth: int) -> None:
    """Deep nesting in a saved facts record, an inventory or a saved report."""
    with no_hang():
        load(depth)
