"""The facts digests a report names for each host: written part by part, they must hash exactly
the text the plain definition hashes, or reports made before and after would not compare."""

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from migdoctor.report.document import VOLATILE_FACTS, VOLATILE_LINK_FACTS, digests, facts_digest, host_record

FACTS = Path(__file__).resolve().parents[2] / "data" / "facts"


def plain_digest(facts: dict[str, Any]) -> str:
    canonical = json.dumps(facts, sort_keys=True, separators=(",", ":")).encode()
    return "sha256:" + hashlib.sha256(canonical).hexdigest()


def plain_stable_digest(facts: dict[str, Any]) -> str:
    settled = {key: value for key, value in facts.items() if key not in VOLATILE_FACTS}
    settled["links"] = [
        {key: value for key, value in link.items() if key not in VOLATILE_LINK_FACTS}
        for link in facts.get("links") or []
    ]
    return plain_digest(settled)


def captured() -> list[dict[str, Any]]:
    records = []
    for path in sorted(FACTS.glob("*-report.json")):
        records += json.loads(path.read_text())["facts"].values()
    return records


@pytest.mark.parametrize("facts", captured(), ids=lambda facts: facts["identity"]["hostname"])
def test_digests_hash_what_the_plain_definition_hashes(facts):
    assert digests(facts) == (plain_digest(facts), plain_stable_digest(facts))


def test_text_beyond_ascii_floats_and_a_record_without_links_digest_the_same():
    facts = {"zz": "Grüße ✓ \U0001f600", "a": [1.5e-05, 1e16, -0.0, None, True], "collected_at": "t", "é": {"b": 1}}

    assert digests(facts) == (plain_digest(facts), plain_stable_digest(facts))
    assert digests({**facts, "collected_at": "later"})[1] == digests(facts)[1]
    assert digests({**facts, "collected_at": "later"})[0] != digests(facts)[0]


def test_a_host_not_reached_has_no_digest():
    record = host_record("kvm1", "ssh:kvm1", None, "ssh: connection refused")

    assert record["facts_digest"] is None and record["facts_stable_digest"] is None
    assert facts_digest(None) is None
