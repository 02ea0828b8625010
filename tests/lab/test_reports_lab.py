"""The report files of a real `migdoctor check` in the lab's seed scenario: one run writes JSON,
HTML, Markdown and JUnit beside each other, and each file is exactly what `report render` makes
of the JSON alone, so a report re-rendered later tells the same."""

import subprocess
import sys
from pathlib import Path

import pytest
import xmlschema

pytestmark = pytest.mark.lab

MIGDOCTOR = str(Path(sys.prefix) / "bin" / "migdoctor")
JUNIT_XSD = Path(__file__).resolve().parents[1] / "data" / "junit" / "junit-10.xsd"


def test_one_run_writes_every_format_and_render_remakes_them(lab_scenario, tmp_path):
    lab_scenario("seed")
    stem = tmp_path / "kvm7-maintenance"

    done = subprocess.run(
        [MIGDOCTOR, "check", "hosta", "hostb", "--output-stem", str(stem)], capture_output=True, text=True, timeout=120
    )

    assert done.returncode == 1, done.stderr
    assert done.stdout.startswith("path: hosta a-lan 192.0.2.1 (100 Mb/s) -> hostb 192.0.2.2:49152-49215")
    xmlschema.XMLSchema(JUNIT_XSD).validate(str(stem) + ".xml")
    assert (
        'failure type="high" message="hosta -&gt; hostb: hostb.lab.test (hostname (migration_host unset))'
        in Path(str(stem) + ".xml").read_text()
    )
    for output_format, suffix in (("html", ".html"), ("markdown", ".md"), ("junit", ".xml")):
        rendered = subprocess.run(
            [MIGDOCTOR, "report", "render", str(stem) + ".json", "--format", output_format],
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert rendered.returncode == 0, rendered.stderr
        assert rendered.stdout == Path(str(stem) + suffix).read_text(), output_format
