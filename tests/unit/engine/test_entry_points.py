"""Third-party checks registered under the entry-point group `migdoctor.checks` are found the way
pip-installed plug-ins are: an installed distribution's entry_points.txt on the import path."""

import json
import os
import subprocess
import sys
from pathlib import Path

PLUGIN = '''
"""A site's own rule: the destination must advertise a name under the site's migration zone."""
from migdoctor.checkapi import Registry, failed, passed
from migdoctor.judging.facts import advertised_name

registry = Registry()


@registry.check("site.migration-zone", "The advertised name is in the site's migration zone", "low")
def migration_zone(pair):
    name, _ = advertised_name(pair.dst)
    if name.endswith("-fast.lab.test"):
        return passed(f"{name} is in the migration zone")
    return failed(f"{name} is outside the migration zone")
'''
SEED = str(Path(__file__).parents[2] / "data" / "facts" / "seed-report.json")


def install_plugin(site: Path) -> dict[str, str]:
    """Lay the plug-in out as pip would install it, and return an environment that sees it."""
    (site / "site_checks.py").write_text(PLUGIN)
    info = site / "site_checks-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: site-checks\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[migdoctor.checks]\nsite = site_checks\n")
    return {**os.environ, "PYTHONPATH": str(site), "COLUMNS": "200", "MIGDOCTOR_INVENTORY": "/dev/null"}  # no lab's


def test_entry_point_checks_are_listed_with_their_origin(tmp_path: Path) -> None:
    env = install_plugin(tmp_path)
    listing = subprocess.run([sys.executable, "-m", "migdoctor", "checks"], capture_output=True, text=True, env=env)
    line = next(line for line in listing.stdout.splitlines() if "site.migration-zone" in line)
    assert "low" in line and "entry point site (site_checks)" in line


def test_entry_point_checks_run_beside_the_builtin_ones(tmp_path: Path) -> None:
    env = install_plugin(tmp_path)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "migdoctor",
            "check",
            "hosta",
            "hostb",
            "--facts",
            SEED,
            SEED,
            "--only",
            "site",
            "--migration-network",
            "198.51.100.0/24",
            "--format",
            "json",
            "--output",
            str(tmp_path / "r.json"),
        ],
        capture_output=True,
        text=True,
        env=env,
    )
    (finding,) = json.loads(result.stdout)["pairs"][0]["findings"]
    assert (finding["id"], finding["status"]) == ("site.migration-zone", "fail")
    assert finding["summary"] == "hostb.lab.test is outside the migration zone"
    assert result.returncode == 1
