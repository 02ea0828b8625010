"""Three hosts from the lab's captured facts: kvm1 and kvm2 the healthy pair, kvm3 the seed's
destination (it advertises its LAN name and leaves the ephemeral ports over its migration range)."""

import json
from pathlib import Path
from typing import Any

import pytest

DATA = Path(__file__).parents[2] / "data" / "facts"


def captured(report: str, side: str) -> dict[str, Any]:
    return json.loads((DATA / f"{report}-report.json").read_text(encoding="utf-8"))["facts"][side]


FLEET = {
    "kvm1": ("healthy", "source"),
    "kvm2": ("healthy", "destination"),
    "kvm3": ("seed", "destination"),
}


@pytest.fixture
def fleet_facts() -> dict[str, dict[str, Any]]:
    return {label: captured(*origin) for label, origin in FLEET.items()}


@pytest.fixture
def facts_dir(tmp_path: Path, fleet_facts: dict[str, dict[str, Any]]) -> Path:
    """One HOST.json per host, as `migdoctor facts HOST --json` writes them."""
    directory = tmp_path / "facts"
    directory.mkdir()
    for label, facts in fleet_facts.items():
        (directory / f"{label}.json").write_text(json.dumps(facts, indent=2, sort_keys=True), encoding="utf-8")
    return directory
