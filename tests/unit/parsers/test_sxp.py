r"""S-expressions as xend reads them, on SUSE's xend-config.sxp (the one the seed thread quotes).

xend compiles each space-separated word of xend-relocation-hosts-allow with re.compile(), so
the string after unquoting is the regex: '\\.' must reach it as '\.'.
"""

import re
from pathlib import Path

import pytest

from migdoctor.parsers import ParseError
from migdoctor.parsers.sxp import parse_sxp, parse_xend_config

DATA = Path(__file__).parents[2] / "data" / "parsers"
XEND_CONFIG = (DATA / "xend-config.sxp").read_text()


def uncomment(text: str, line: str) -> str:
    assert f"#{line}\n" in text
    return text.replace(f"#{line}\n", f"{line}\n", 1)


def test_suse_xend_config():
    assert parse_xend_config(XEND_CONFIG, "/etc/xen/xend-config.sxp") == {
        "xend-unix-server": "yes",
        "xend-relocation-hosts-allow": r"^localhost$ ^localhost\.localdomain$",
        "network-script": [],
        "vif-script": "vif-bridge",
        "dom0-min-mem": "512",
        "enable-dom0-ballooning": "yes",
        "total_available_memory": "0",
        "dom0-cpus": "0",
        "vncpasswd": "",
    }


def test_relocation_settings_from_the_seed_thread():
    text = uncomment(XEND_CONFIG, "(xend-relocation-server no)")
    text = uncomment(text, "(xend-relocation-port 8002)")
    text = uncomment(text, "(xend-relocation-address '')")
    config = parse_xend_config(text, "xend-config.sxp")
    assert config["xend-relocation-server"] == "no"
    assert config["xend-relocation-port"] == "8002"
    assert config["xend-relocation-address"] == ""


def test_hosts_allow_as_in_xen_example_is_the_intended_regex():
    text = r"(xend-relocation-hosts-allow '^localhost$ ^.*\\.example\\.org$')"
    allow = parse_xend_config(text, "x")["xend-relocation-hosts-allow"]
    assert allow == r"^localhost$ ^.*\.example\.org$"
    assert re.match(allow.split(" ")[1], "mig.example.org")


def test_single_backslashes_lose_the_dot():
    text = r"(xend-relocation-hosts-allow '^.*\.example\.org$')"
    allow = parse_xend_config(text, "x")["xend-relocation-hosts-allow"]
    assert allow == r"^.*\example\org$"  # Python 2's re read \e as e: no host in example.org


def test_nested_values_and_first_entry_wins():
    text = uncomment(XEND_CONFIG, "   (xen-api-server ((9363 pam '^localhost$ example\\\\.com$')")
    text = text.replace("#                    (unix none)))", "(unix none)))", 1)
    text += "(xend-unix-server no)\n"
    config = parse_xend_config(text, "x")
    assert config["xen-api-server"] == [[["9363", "pam", r"^localhost$ example\.com$"], ["unix", "none"]]]
    assert config["xend-unix-server"] == "yes"


def test_atoms_and_comments():
    text = '(a b#comment\n c\'d "e f" [g]!h) ; (k)'
    assert parse_sxp(text, "x") == [["a", "b", "c'd", "e f", "[g", "]", "!h"], ";", ["k"]]


@pytest.mark.parametrize(
    ("quoted", "value"),
    [
        (r"'\t\n\\\"'", '\t\n\\"'),
        (r"'\101\7x'", "A\x07x"),
        (r"'\x41'", "A"),
        (r"'\x4a'", "@"),  # sic: xend reads hex letters a-f as 0-5
        (r"'a\.b'", "a\\b"),  # an unknown escape keeps the backslash and drops the character
        ("'multi\nline'", "multi\nline"),
    ],
)
def test_string_escapes(quoted, value):
    assert parse_sxp(f"(k {quoted})", "x") == [["k", value]]


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("(a b)\n(c d))\n", 2, "syntax error: )"),
        ("(a b)\n(c (d e)\n(f g)\n", 2, "unexpected EOF: this ( is never closed"),
        ("(a\n 'b c)\n", 2, "unexpected EOF in string"),
        ("(a '\\400')", 1, "invalid octal escape: out of range 400"),
        ("\n(a '\\xg0')", 2, "invalid hex escape: \\x needs two hex digits"),
        ("(a é)", 1, "invalid character: code 233"),
    ],
)
def test_errors(text, line, message):
    with pytest.raises(ParseError) as caught:
        parse_sxp(text, "/etc/xen/xend-config.sxp")
    assert (caught.value.path, caught.value.line, caught.value.message) == ("/etc/xen/xend-config.sxp", line, message)
