"""libvirt's config syntax, on the qemu.conf and libvirtd.conf that Debian 12 ships.

Error messages and line numbers below match what libvirt 9.0 itself prints for the same text
(checked with `virsh uri` against a bind-mounted /etc/libvirt/libvirt.conf).
"""

import re
from pathlib import Path

import pytest

from migdoctor.parsers import ParseError
from migdoctor.parsers.libvirt_conf import parse_libvirt_conf, redact_secrets

DATA = Path(__file__).parents[2] / "data" / "parsers"
QEMU_CONF = (DATA / "qemu.conf").read_text()
LIBVIRTD_CONF = (DATA / "libvirtd.conf").read_text()


def uncomment(text: str, *names: str) -> str:
    """Enable settings the way an admin does: drop the '#' before `name = `."""
    for name in names:
        text = re.sub(f"(?m)^#({name} = )", r"\1", text)
    return text


def enable_all(text: str) -> str:
    """Uncomment every documented setting, with the continuation lines of multi-line lists."""
    lines, in_list = [], False
    for line in text.split("\n"):
        if in_list:
            line = line[1:]
            in_list = "]" not in line
        elif re.match("#[a-z_]+ = ", line):
            line = line[1:]
            in_list = "[" in line and "]" not in line
        lines.append(line)
    return "\n".join(lines)


def test_stock_files_set_nothing():
    assert parse_libvirt_conf(QEMU_CONF, "/etc/libvirt/qemu.conf") == {}
    assert parse_libvirt_conf(LIBVIRTD_CONF, "/etc/libvirt/libvirtd.conf") == {}


def test_migration_settings_uncommented():
    text = uncomment(QEMU_CONF, "migration_address", "migration_host", "migration_port_min", "migration_port_max")
    assert parse_libvirt_conf(text, "qemu.conf") == {
        "migration_address": "0.0.0.0",
        "migration_host": "host.example.com",
        "migration_port_min": 49152,
        "migration_port_max": 49215,
    }


def test_every_documented_qemu_setting_parses():
    values = parse_libvirt_conf(enable_all(QEMU_CONF), "qemu.conf")
    assert len(values) == 71
    assert values["migration_port_min"] == 49152
    assert values["cgroup_device_acl"] == [
        "/dev/null",
        "/dev/full",
        "/dev/zero",
        "/dev/random",
        "/dev/urandom",
        "/dev/ptmx",
        "/dev/kvm",
    ]
    assert values["namespaces"] == ["mount"]
    assert len(values["nvram"]) == 4
    assert values["user"] == "libvirt-qemu"


def test_every_documented_libvirtd_setting_parses():
    values = parse_libvirt_conf(enable_all(LIBVIRTD_CONF), "libvirtd.conf")
    assert values["listen_tcp"] == 1
    assert values["listen_addr"] == "192.168.0.1"
    assert values["tcp_port"] == "16509"  # quoted in the file, so a string, as libvirtd wants
    assert values["sasl_allowed_username_list"] == ["joe@EXAMPLE.COM", "fred@EXAMPLE.COM"]


def test_first_assignment_wins_as_in_virConfGetValue():
    text = uncomment(QEMU_CONF, "migration_address") + 'migration_address = "192.0.2.1"\n'
    assert parse_libvirt_conf(text, "qemu.conf") == {"migration_address": "0.0.0.0"}


def test_uncommenting_only_the_first_line_of_a_list_breaks_the_file():
    with pytest.raises(ParseError) as caught:
        parse_libvirt_conf(uncomment(QEMU_CONF, "cgroup_device_acl"), "/etc/libvirt/qemu.conf")
    assert (caught.value.path, caught.value.line) == ("/etc/libvirt/qemu.conf", 566)
    assert caught.value.message == "expecting a value"
    assert str(caught.value) == "/etc/libvirt/qemu.conf:566: expecting a value"
    assert isinstance(caught.value, ValueError)


def test_value_forms():
    text = (
        "a = 'single' # comment\n"
        'b = """two\nlines"""\n'
        "c = -5; d = +7\n"
        "e = [ 1, 'x',\n  [ \"nested\" ],\n]\n"
        "f = []\r\n"
    )
    assert parse_libvirt_conf(text, "f") == {
        "a": "single",
        "b": "two\nlines",
        "c": -5,
        "d": 7,
        "e": [1, "x", ["nested"]],
        "f": [],
    }


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ('uri_default "test:///default"\n', 1, "expecting an assignment"),
        ("\n\nuri_default = \n", 3, "expecting a value"),
        ('uri_default = "test:///default\n', 1, "unterminated string"),
        ('uri_default = """test:///default\n\n', 1, "unterminated string"),
        ('uri_aliases = [ "a" "b" ]\n', 1, "expecting a separator in list"),
        ('uri_aliases = [ "a",\n "b"\n', 3, "list is not closed with ]"),
        ('uri_aliases = [\n "a",\n# "b",\n]\n', 3, "expecting a value"),
        ('uri_default = "test:///default" x\n', 1, "expecting a separator"),
        ("# c\n  uri_default = 5x\n", 2, "expecting a separator"),
        ("1abc = 2\n", 1, "expecting a name"),
        ("a = -\n", 1, "unterminated number"),
    ],
)
def test_errors_match_libvirt(text, line, message):
    with pytest.raises(ParseError) as caught:
        parse_libvirt_conf(text, "/etc/libvirt/libvirt.conf")
    assert (caught.value.line, caught.value.message) == (line, message)


def test_redact_secrets():
    values = parse_libvirt_conf(enable_all(QEMU_CONF), "qemu.conf")
    values["default_tls_x509_secret_uuid"] = "8f3b..."
    redacted = redact_secrets(values)
    assert redacted["vnc_password"] == redacted["spice_password"] == "<redacted>"
    assert redacted["default_tls_x509_secret_uuid"] == "<redacted>"
    assert redacted["migration_address"] == "0.0.0.0"
    assert redact_secrets({"vncpasswd": "", "vnc-listen": "0.0.0.0"}) == {
        "vncpasswd": "<redacted>",
        "vnc-listen": "0.0.0.0",
    }
    assert values["vnc_password"] == "XYZ12345"  # the input is left alone
