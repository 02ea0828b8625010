"""The hosts: line of nsswitch.conf, on Debian's default file and variants.

The variants marked glibc-checked were run through glibc 2.36: the file bind-mounted over
/etc/nsswitch.conf, `LD_DEBUG=libs getent hosts localhost` showing which libnss_*.so it tried.
"""

from pathlib import Path

import pytest

from migdoctor.parsers import ParseError
from migdoctor.parsers.nsswitch import parse_nsswitch_hosts

DATA = Path(__file__).parents[2] / "data" / "parsers"
DEBIAN = (DATA / "nsswitch.conf").read_text()
PLAIN = {"SUCCESS": "return", "NOTFOUND": "continue", "UNAVAIL": "continue", "TRYAGAIN": "continue"}


def sources(text: str) -> list[str]:
    return [service["source"] for service in parse_nsswitch_hosts(text)]


def test_debian_default():
    assert parse_nsswitch_hosts(DEBIAN, "/etc/nsswitch.conf") == [
        {"source": "files", "actions": PLAIN},
        {"source": "dns", "actions": PLAIN},
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", ["files", "dns"]),
        ("passwd: files\n", ["files", "dns"]),
        ("hosts: files bogusA # bogusB\n", ["files", "bogusA", "#", "bogusB"]),  # glibc-checked
        ("hosts: first1\nhosts: second2\n", ["second2"]),  # glibc-checked
        ("hosts: bogusY\nhosts: bogusZ", ["bogusY"]),  # glibc-checked: last line lacks its newline
        ("hosts files second3\n", ["files", "second3"]),  # glibc-checked
        ("  hosts:bogusE\n", ["bogusE"]),  # glibc-checked
        ("HOSTS: bogusF\n#hosts: bogusG\n", ["files", "dns"]),  # glibc-checked
        ("hosts:\n", []),  # glibc-checked: every lookup fails
        ("hosts: [NOTFOUND=return] dns\n", []),  # glibc-checked: a criterion needs a source first
        ("hosts: mdns4_minimal [NOTFOUND=return] dns myhostname\n", ["mdns4_minimal", "dns", "myhostname"]),
    ],
)
def test_sources(text, expected):
    assert sources(text) == expected


def test_actions():
    text = "hosts: files[notfound = Return] dns [ !UNAVAIL=return TRYAGAIN=continue ] mdns\n"
    assert parse_nsswitch_hosts(text) == [
        {"source": "files", "actions": {**PLAIN, "NOTFOUND": "return"}},
        {
            "source": "dns",
            "actions": {"SUCCESS": "return", "NOTFOUND": "return", "UNAVAIL": "continue", "TRYAGAIN": "continue"},
        },
        {"source": "mdns", "actions": PLAIN},
    ]


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("hosts: files\nhosts: bogusC [FOO=return] bogusD\n", 2),  # glibc-checked
        ("hosts: bogusV [NOTFOUND=return\n", 1),  # glibc-checked
        ("# default\npasswd_compat: files [FOO=bar]\n", 2),  # glibc-checked
        ("hosts: files []\n", 1),
    ],
)
def test_bad_criteria_reject_the_file(text, line):
    with pytest.raises(ParseError) as caught:
        parse_nsswitch_hosts(text, "/etc/nsswitch.conf")
    assert caught.value.line == line
    assert "glibc rejects the whole file" in caught.value.message


def test_unknown_databases_are_not_checked():
    assert sources("sudoers: files [FOO=bar]\n") == ["files", "dns"]  # glibc-checked
