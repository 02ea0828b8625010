"""/etc/resolv.conf with glibc's semantics, on systemd-resolved's stub file and variants."""

from pathlib import Path

import pytest

from migdoctor.parsers.resolv_conf import parse_resolv_conf

DATA = Path(__file__).parents[2] / "data" / "parsers"
STUB = (DATA / "resolv.conf").read_text()
DEFAULTS = {"timeout": 5, "attempts": 2, "ndots": 1}


def test_systemd_stub_resolver():
    assert parse_resolv_conf(STUB) == {
        "nameservers": ["127.0.0.53"],
        "nameservers_ignored": [],
        "search": ["."],
        "options": {**DEFAULTS, "edns0": True, "trust-ad": True},
    }


def test_only_three_valid_nameservers_are_queried():
    text = (
        "nameserver 192.0.2.1 # primary\n"
        "nameserver 192.0.2.300\n"
        "nameserver 127.1\n"
        "nameserver fe80::0001%eth0\n"
        "nameserver 192.0.2.4\n"
    )
    parsed = parse_resolv_conf(text)
    assert parsed["nameservers"] == ["192.0.2.1", "127.0.0.1", "fe80::1%eth0"]
    assert parsed["nameservers_ignored"] == ["192.0.2.300", "192.0.2.4"]


def test_no_nameserver_means_localhost():
    assert parse_resolv_conf("search example.org\n")["nameservers"] == ["127.0.0.1"]


@pytest.mark.parametrize(
    ("text", "search"),
    [
        ("search a.example b.example\ndomain c.example d.example\n", ["c.example"]),
        ("domain c.example\nsearch a.example\tb.example\n", ["a.example", "b.example"]),
        ("search a.example # old\n", ["a.example", "#", "old"]),
        ("search a.example\nsearch\n", ["a.example"]),
        ("  search a.example\n", []),
        ("#search a.example\n;search b.example\n", []),
    ],
)
def test_search_list(text, search):
    assert parse_resolv_conf(text)["search"] == search


@pytest.mark.parametrize(
    ("line", "options"),
    [
        ("options ndots:20 timeout:60 attempts:9", {"ndots": 15, "timeout": 30, "attempts": 5}),
        ("options ndots:x timeout:1", {"ndots": 0, "timeout": 1}),
        ("options single-request-reopen rotatex", {"single-request-reopen": True, "rotate": True}),
        ("options no_tld_query use-vc inet6 debug", {"no-tld-query": True, "use-vc": True}),
    ],
)
def test_options(line, options):
    assert parse_resolv_conf(line + "\n")["options"] == {**DEFAULTS, **options}
