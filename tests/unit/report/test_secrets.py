"""A report made with --include-facts carries hostb's parsed qemu.conf; its passwords must not.

The facts layer reads qemu.conf with parse_libvirt_conf and redact_secrets (what read_config does
with /etc/libvirt/qemu.conf); here the same two run on the text of a real-looking file."""

import json

import pytest

from migdoctor.parsers.libvirt_conf import REDACTED, parse_libvirt_conf, redact_secrets
from migdoctor.report.document import validate_report, write_report
from migdoctor.report.markdown import render_markdown
from migdoctor.run.collect import Collected

SECRET = "s3cret"
QEMU_CONF = f"""\
# Master configuration file for the QEMU driver.
# All settings described here are optional - if omitted, sensible
# defaults are used.

vnc_listen = "0.0.0.0"
vnc_password = "{SECRET}"
spice_password = "{SECRET}"
vnc_tls_x509_secret_uuid = "{SECRET}-0f2e-4b8a-9d47-5a1c3e7b9f20"

user = "root"
group = "root"
dynamic_ownership = 0

migration_address = "198.51.100.2"
migration_host = "hostb-fast.lab.test"
migration_port_min = 49152
migration_port_max = 49215
"""


@pytest.fixture
def report(captured, judge_report):
    facts = captured("healthy")["facts"]["destination"]
    values = redact_secrets(parse_libvirt_conf(QEMU_CONF, "/etc/libvirt/qemu.conf"))
    facts["config"]["qemu_conf"] = {"path": "/etc/libvirt/qemu.conf", "present": True, "values": values}
    return judge_report("healthy", dst=Collected(facts), include_facts=True)


def test_passwords_in_qemu_conf_never_reach_the_report(report, tmp_path):
    target = tmp_path / "report.json"

    write_report(report, target)

    for rendering in (json.dumps(report), target.read_text(), render_markdown(report)):
        assert SECRET not in rendering
    values = report["facts"]["hostb"]["config"]["qemu_conf"]["values"]
    assert {key: values[key] for key in values if values[key] == REDACTED} == {
        "vnc_password": REDACTED,
        "spice_password": REDACTED,
        "vnc_tls_x509_secret_uuid": REDACTED,
    }


def test_the_rest_of_qemu_conf_is_kept_and_judged(report):
    validate_report(report)
    values = report["facts"]["hostb"]["config"]["qemu_conf"]["values"]
    statuses = {f["id"]: f["status"] for f in report["pairs"][0]["findings"]}

    assert values["migration_host"] == "hostb-fast.lab.test" and values["vnc_listen"] == "0.0.0.0"
    assert statuses["listen.migration-address"] == statuses["dns.migration-host-address"] == "pass"
