"""Fuzzing as a test (hypothesis): facts records, inventories and config texts mutated at random
must give a valid report or a clean one-line rejection, never a crash or a hang.

The examples are derandomized so the suite is the same on every run (a property test must not be
a flake); HYPOTHESIS_PROFILE=fuzz explores many more, randomly (2,000 per property ran clean). A
failure found this way is kept as a regular test beside the code it broke; the classes the
issue's own fuzz and review found are there (test_sandbox, test_config, test_facts_admission,
test_safe_output, test_validate_first, test_specs)."""

from __future__ import annotations

import copy
import json
import os
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import tomli_w
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rich.console import Console

from migdoctor.parsers import ParseError
from migdoctor.parsers.libvirt_conf import parse_libvirt_conf
from migdoctor.parsers.sxp import parse_xend_config
from migdoctor.parsers.xl_conf import parse_xl_conf
from migdoctor.report.document import validate_report
from migdoctor.report.markdown import render_markdown
from migdoctor.report.text import render_text
from migdoctor.run.collect import Collected, Gathered
from migdoctor.run.intent import decide_intent
from migdoctor.run.judge import judge
from migdoctor.run.lookups import destination_lookups, source_lookups
from migdoctor.run.request import Request
from migdoctor.schemas import facts_problem
from migdoctor.transports import Host, TransportError, resolve_host
from migdoctor.transports.inventory import Inventory, InventoryError, parse_inventory

settings.register_profile(
    "ci", max_examples=60, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("fuzz", max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

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


def judged(src: dict[str, Any] | None, dst: dict[str, Any] | None, network: str | None) -> dict[str, Any]:
    """What `migdoctor check` does with two facts records it admitted (or could not get)."""
    request = Request.pair(
        Host("hosta", "local"), Host("hostb", "ssh", "hostb"), Inventory(), migration_network=network
    )
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

    report = judged(FACTS["healthy"]["source"], dst, "198.51.100.0/24")

    assert all(f["status"] != "error" for f in report["pairs"][0]["findings"]), [
        f["summary"] for f in report["pairs"][0]["findings"] if f["status"] == "error"
    ]
