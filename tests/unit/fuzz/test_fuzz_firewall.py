"""The firewall checks over schema-valid firewall facts made at random (hypothesis): they never
raise (a malformed field is a WARN or FAIL naming it, never an ERROR), and a source that could not
be read is never a PASS. The examples start from the real captures (tests/data/netfilter/real)
and the lab's facts, with values replaced, keys dropped and text lines garbled anywhere."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from migdoctor.checkapi import Status
from migdoctor.engine import discover, run_check
from migdoctor.facts import SCHEMA_VERSION
from migdoctor.judging.pair import Intent, MigrationNetwork, Pair
from migdoctor.netfilter.host import upgraded
from migdoctor.schemas import facts_problem

DATA = Path(__file__).parents[2] / "data"
LAB = json.loads((DATA / "facts" / "healthy-report.json").read_text(encoding="utf-8"))["facts"]
REAL = [json.loads(path.read_text())["firewall"] for path in sorted((DATA / "netfilter" / "real").glob("*.json"))]
CHECKS = [check for check in discover() if check.id.startswith("firewall.")]
LAB_URI = "qemu+ssh://root@hostb/system?command=/run/migdoctor-lab/ssh"
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**64)
    | st.sampled_from([0, 22, 49152, 49215, 65535, 65536, -1, "49152", "b-fast", "*", "accept", "drop", "xt"])
    | st.text(max_size=10)
)
KEYS = [
    "match",
    "left",
    "right",
    "op",
    "payload",
    "meta",
    "key",
    "set",
    "range",
    "prefix",
    "jump",
    "goto",
    "vmap",
    "data",
    "xt",
    "family",
    "table",
    "chain",
    "hook",
    "prio",
    "policy",
    "type",
    "expr",
    "elem",
    "ct",
]
JSON = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=6,
)


@st.composite
def garbled_json(draw: st.DrawFn, document: Any) -> Any:
    """DOCUMENT with a few values replaced or keys dropped, anywhere in it."""
    document = copy.deepcopy(document)
    for _ in range(draw(st.integers(1, 4))):
        parent, key, node = None, None, document
        while isinstance(node, dict | list) and node and draw(st.integers(0, 5)):
            key = draw(st.sampled_from(sorted(node) if isinstance(node, dict) else range(len(node))))
            parent, node = node, node[key]
        if parent is None:
            continue
        if isinstance(parent, dict) and draw(st.booleans()):
            del parent[key]
        else:
            parent[key] = draw(JSON)
    return document


@st.composite
def garbled_text(draw: st.DrawFn, text: str) -> str:
    """TEXT (iptables-save output, zone XML) with lines replaced by parts of others or random text."""
    lines = text.splitlines()
    for _ in range(draw(st.integers(0, 4))):
        if not lines:
            break
        at = draw(st.integers(0, len(lines) - 1))
        words = draw(st.sampled_from(lines)).split()
        lines[at] = (
            " ".join(draw(st.permutations(words))[: draw(st.integers(0, len(words)))])
            if draw(st.booleans())
            else draw(st.text(max_size=30))
        )
    return "\n".join(lines)


@st.composite
def firewall_facts(draw: st.DrawFn) -> dict[str, Any]:
    base = copy.deepcopy(draw(st.sampled_from([*REAL, upgraded(LAB["destination"]["firewall"])])))
    sources = []
    for source in base["sources"]:
        if draw(st.integers(0, 4)) == 0:
            continue
        if "ruleset" in source and draw(st.booleans()):
            source["ruleset"] = draw(garbled_json(source["ruleset"]))
        elif "save" in source and draw(st.booleans()):
            source["save"] = draw(garbled_text(source["save"]))
        sources.append(source)
    unread = draw(
        st.lists(
            st.fixed_dictionaries(
                {
                    "command": st.sampled_from(
                        ["nft -j list ruleset", "iptables-legacy-save", "ip6tables-nft-save", "iptables-save", "x"]
                    ),
                    "reason": st.text(max_size=20),
                }
            ),
            max_size=2,
        )
    )
    files = base["firewalld"]
    if files and draw(st.booleans()):
        path = draw(st.sampled_from(sorted(files)))
        files[path] = draw(garbled_text(files[path]))
    return {"sources": draw(st.permutations(sources)), "unread": unread, "firewalld": files}


def current(record: dict[str, Any]) -> dict[str, Any]:
    """The lab's record (schema 1) in this schema's form."""
    return {**copy.deepcopy(record), "schema_version": SCHEMA_VERSION, "firewall": upgraded(record["firewall"])}


def pair_with(dst: dict[str, Any]) -> Pair:
    intent = Intent(MigrationNetwork.parse("198.51.100.0/24"), "test", False, dst_libvirt_uri=LAB_URI)
    return Pair("hosta", "hostb", current(LAB["source"]), dst, intent)


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(firewall_facts())
def test_firewall_checks_never_raise_and_never_pass_what_was_not_read(firewall):
    pair = pair_with({**current(LAB["destination"]), "firewall": firewall})
    assume(facts_problem(pair.dst) is None)

    for check in CHECKS:
        finding = run_check(check, pair, set())

        assert finding.status != Status.ERROR, (check.id, finding.summary)
        if any(unread["command"] != "ip6tables-nft-save" for unread in firewall["unread"]):
            assert finding.status != Status.PASS, (check.id, finding.summary)


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(garbled_json({"firewall": LAB["destination"]["firewall"]}))
def test_firewall_checks_never_raise_on_facts_of_schema_1(garbled):
    pair = pair_with({**copy.deepcopy(LAB["destination"]), "firewall": garbled.get("firewall")})
    assume(facts_problem(pair.dst) is None and pair.dst["firewall"] is not None)

    for check in CHECKS:
        finding = run_check(check, pair, set())

        assert finding.status != Status.ERROR, (check.id, finding.summary)
        assert finding.status != Status.PASS, (check.id, finding.summary)  # schema 1 lacks the legacy tables
