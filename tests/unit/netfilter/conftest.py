"""Loaders for the real firewall dumps captured by tests/data/netfilter/capture.sh."""

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

DATA = Path(__file__).resolve().parents[2] / "data" / "netfilter"
NFT_DUMPS = sorted(path.stem for path in (DATA / "nft").glob("*.json"))
IPTABLES_DUMPS = sorted(path.stem for path in (DATA / "iptables").glob("*.save"))


@pytest.fixture
def nft_dump() -> Callable[[str], dict[str, Any]]:
    """nft -j list ruleset output, by fixture name (nft/NAME.json)."""
    return lambda name: json.loads((DATA / "nft" / f"{name}.json").read_text())


@pytest.fixture
def iptables_dump() -> Callable[[str], str]:
    """iptables-save output, by fixture name (iptables/NAME.save)."""
    return lambda name: (DATA / "iptables" / f"{name}.save").read_text()


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Tests taking nft_name or iptables_name run once per captured dump."""
    if "nft_name" in metafunc.fixturenames:
        metafunc.parametrize("nft_name", NFT_DUMPS)
    if "iptables_name" in metafunc.fixturenames:
        metafunc.parametrize("iptables_name", IPTABLES_DUMPS)
