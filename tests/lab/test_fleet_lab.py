"""Many pairs in one run against the two-hypervisor lab's real daemons: `check --all` and
`--to-each-other` judge both directions with each host's facts collected once; the seed's
failure is one cause naming the pair it hits; the probes ran for both directions."""

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from migdoctor.report.compact import expanded_pairs
from migdoctor.report.document import validate_report

pytestmark = pytest.mark.lab

MIGDOCTOR = str(Path(sys.prefix) / "bin" / "migdoctor")


def fleet_check(tmp_path: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    output = tmp_path / "fleet.json"
    done = subprocess.run(
        [MIGDOCTOR, "check", *args, "--output", str(output)], capture_output=True, text=True, timeout=180
    )
    assert output.exists(), done.stderr
    return done, json.loads(output.read_text())


def probed(pair: dict[str, Any]) -> dict[str, Any]:
    (finding,) = [f for f in pair["findings"] if f["id"] == "probe.migration-port"]
    return {e["item"]: e["actual"] for e in finding["evidence"]}


def test_all_on_the_healthy_lab_checks_both_directions_on_the_fast_links(lab_scenario, tmp_path):
    lab_scenario("healthy")
    done, report = fleet_check(tmp_path, "--all", "--format", "text")

    validate_report(report)
    assert done.returncode == 0 and report["exit_status"] == 0, done.stdout
    assert [(p["source"], p["destination"]) for p in report["pairs"]] == [("hosta", "hostb"), ("hostb", "hosta")]
    assert report["matrix"]["hosta"]["hostb"] == {
        "verdict": "pass", "source_link": "a-fast", "destination_link": "b-fast", "on_migration_network": True
    }  # fmt: skip
    assert report["matrix"]["hostb"]["hosta"]["source_link"] == "b-fast"
    there, back = expanded_pairs(report)  # a run of several pairs writes the compact form
    assert (
        probed(there)["link that sent the bytes"] == "a-fast" and probed(back)["link that sent the bytes"] == "b-fast"
    )
    assert list(report["hosts"]) == ["hosta", "hostb"] and all(h["reached"] for h in report["hosts"].values())
    assert done.stdout.startswith("matrix (rows: source, columns: destination")
    assert done.stdout.splitlines()[-1].startswith("2 pairs: 2 pass; checks: ")


def test_to_each_other_on_the_seed_names_each_failure_once_with_both_pairs(lab_scenario, tmp_path):
    lab_scenario("seed")
    done, report = fleet_check(tmp_path, "--to-each-other", "hosta", "hostb", "--format", "text")

    validate_report(report)
    assert done.returncode == 1 and report["exit_status"] == 1
    for pair in expanded_pairs(report):  # neither host sets migration_host: each advertises its LAN name
        assert "dns.migration-host-address" in {f["id"] for f in pair["findings"] if f["status"] == "fail"}
    assert report["matrix"]["hosta"]["hostb"]["verdict"] == report["matrix"]["hostb"]["hosta"]["verdict"] == "fail"
    assert report["matrix"]["hosta"]["hostb"]["source_link"] == "a-lan"
    (cause,) = [line for line in done.stdout.splitlines() if line.startswith("FAIL  dns.migration-host-address")]
    assert cause.startswith("FAIL  dns.migration-host-address on 2 pairs (hosta -> hostb, hostb -> hosta): ")
    assert "off the migration network 198.51.100.0/24" in cause  # the network is no host's address


def test_a_source_among_its_destinations_is_not_judged_against_itself(lab_scenario, tmp_path):
    """`check hosta hostb hosta hostb-again`, hostb-again an inventory entry that reaches hostb as
    hostb's does: hosta -> hosta is dropped, hostb is judged once; each host is collected once."""
    import tomli_w

    lab = lab_scenario("seed")
    inventory = lab.inventory()
    inventory["hosts"]["hostb-again"] = inventory["hosts"]["hostb"]
    (tmp_path / "inventory.toml").write_text(tomli_w.dumps(inventory))

    done, report = fleet_check(
        tmp_path, "hosta", "hostb", "hosta", "hostb-again", "-i", str(tmp_path / "inventory.toml"), "--only", "dns"
    )

    validate_report(report)
    assert [(p["source"], p["destination"]) for p in report["pairs"]] == [("hosta", "hostb")]
    assert list(report["hosts"]) == ["hosta", "hostb"] and done.returncode == report["exit_status"] == 1
    assert [line for line in done.stderr.splitlines() if line.startswith("migdoctor: ")] == [
        "migdoctor: hosta -> hosta: a host does not migrate to itself; that pair is not judged",
        "migdoctor: hostb-again: the same host as hostb (both are reached as ssh:root@hostb); its pairs are "
        "judged once, as hostb's",
    ]
