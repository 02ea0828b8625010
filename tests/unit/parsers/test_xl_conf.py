"""xl.conf as libxlu reads it, on the file Debian 12's xen-utils-common ships."""

import re
from pathlib import Path

import pytest

from migdoctor.parsers import ParseError
from migdoctor.parsers.xl_conf import parse_xl_conf

DATA = Path(__file__).parents[2] / "data" / "parsers"
XL_CONF = (DATA / "xl.conf").read_text()


def test_stock_file_sets_nothing():
    assert parse_xl_conf(XL_CONF, "/etc/xen/xl.conf") == {}


def test_every_documented_setting_as_strings():
    values = parse_xl_conf(re.sub("(?m)^#([a-z])", r"\1", XL_CONF), "/etc/xen/xl.conf")
    assert values == {
        "domid_policy": "xen",
        "autoballoon": "auto",
        "lockfile": "/var/lock/xl",
        "output_format": "json",
        "blkdev_start": "xvda",
        "run_hotplug_scripts": "1",
        "vif.default.backend": "0",
        "vif.default.gatewaydev": "eth0",
        "vif.default.script": "vif-bridge",
        "vif.default.bridge": "xenbr0",
        "claim_mode": "1",
        "vm.cpumask": "0-7",
        "vm.pv.cpumask": "0-3",
        "vm.hvm.cpumask": "3-7",
    }


def test_last_assignment_wins_and_plus_equals_appends():
    text = (
        'vif.default.bridge="xenbr0"\nvif.default.bridge="xenbr1"\n'
        'vif.default.script = "vif-" ; vif.default.script += "bridge"\n'
        'cpus = [ "0", # first\n  "1",\n]\ncpus += [ 0x2 ]\n'
    )
    assert parse_xl_conf(text, "xl.conf") == {
        "vif.default.bridge": "xenbr1",
        "vif.default.script": "vif-bridge",
        "cpus": ["0", "1", "0x2"],
    }


def test_string_escapes():
    text = r"""a = "tab\there \"q\" \\" ; b = 'it\'s'""" + "\n"
    assert parse_xl_conf(text, "xl.conf") == {"a": 'tab\there "q" \\', "b": "it's"}


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ('a = "x"\nb += ["y"]\nb += "z"\n', 3, 'can\'t add [list] to "string" or vice versa'),
        ('a = "open\nb = 1\n', 1, "unterminated string"),
        ('\na = "\\x41"\n', 2, "invalid escape \\x in quoted string"),
        ("Autoballoon = 1\n", 1, "expecting a name"),
        ("a = -1\n", 1, "expecting a value"),
        ('a = "x" "y"\n', 1, "expecting a separator"),
    ],
)
def test_errors(text, line, message):
    with pytest.raises(ParseError) as caught:
        parse_xl_conf(text, "/etc/xen/xl.conf")
    assert (caught.value.line, caught.value.message) == (line, message)
