"""The committed example reports (reports/example-*.json, made in the lab) still match the schema,
so the examples a reader copies from are ones migdoctor accepts."""

import json
from pathlib import Path

import pytest

from migdoctor.report.document import schema_of, validate_report
from migdoctor.schemas import schema_errors

REPORTS = Path(__file__).resolve().parents[3] / "reports"
EXAMPLES = sorted(REPORTS.glob("example-*.json"))


def test_the_seed_example_is_there():
    assert REPORTS / "example-seed.json" in EXAMPLES


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_example_report_is_valid(path):
    report = json.loads(path.read_text(encoding="utf-8"))
    assert schema_errors(schema_of(report), report) == []
    validate_report(report)


def test_seed_example_tells_the_forum_thread():
    report = json.loads((REPORTS / "example-seed.json").read_text(encoding="utf-8"))
    failed = {f["id"]: f for f in report["pairs"][0]["findings"] if f["status"] == "fail"}
    address = failed["dns.migration-host-address"]
    assert address["remediation"] == 'hostb:/etc/libvirt/qemu.conf: migration_host = "hostb-fast.lab.test"'
    assert report["pairs"][0]["path"]["on_migration_network"] is False
    assert report["pairs"][0]["path"]["text"].startswith(
        "hosta a-lan 192.0.2.1 (100 Mb/s) -> hostb 192.0.2.2:49152-49215"
    )
    assert report["exit_status"] == 1
