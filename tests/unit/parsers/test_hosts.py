"""/etc/hosts and /etc/host.conf as glibc's files backend reads them.

GLIBC_CHECKED below was run through glibc 2.36 (`getent ahosts host` with the file bind-mounted
over /etc/hosts): with `multi on` it returned 127.0.1.1, 10.0.0.5, 2001:db8::5 and
::ffff:10.1.2.3 (sorted by RFC 6724), with `multi off` only 127.0.1.1, and host2 only 10.0.0.7.
"""

from pathlib import Path

import pytest

from migdoctor.parsers.hosts import hosts_lookup, parse_host_conf, parse_hosts

DATA = Path(__file__).parents[2] / "data" / "parsers"
DEBIAN_HOSTS = (DATA / "hosts").read_text()
GLIBC_CHECKED = """\
127.0.0.1\tlocalhost
127.0.1.1\tHost.Example.org host
10.0.0.300\thost
10.0.0.5 other host # comment host2
fe80::1%eth0 host
2001:db8::5 HOST
010.1.1.1 host
127.1 host
::ffff:10.1.2.3 host
10.9.9.9
10.0.0.7 host2#x
"""


def test_debian_hosts_entries():
    assert parse_hosts(DEBIAN_HOSTS) == [
        {"address": "127.0.0.1", "names": ["localhost"], "line": 1, "valid": True},
        {"address": "127.0.1.1", "names": ["host.example.org", "host"], "line": 2, "valid": True},
        {"address": "::1", "names": ["localhost", "ip6-localhost", "ip6-loopback"], "line": 5, "valid": True},
        {"address": "ff02::1", "names": ["ip6-allnodes"], "line": 6, "valid": True},
        {"address": "ff02::2", "names": ["ip6-allrouters"], "line": 7, "valid": True},
    ]


@pytest.mark.parametrize(
    ("name", "multi", "addresses"),
    [
        ("host", True, ["127.0.1.1"]),
        ("HOST.example.ORG", True, ["127.0.1.1"]),
        ("localhost", True, ["127.0.0.1", "::1"]),
        ("localhost", False, ["127.0.0.1"]),
        ("ip6-allnodes", True, ["ff02::1"]),
        ("host.example", True, []),
    ],
)
def test_debian_hosts_lookup(name, multi, addresses):
    assert hosts_lookup(parse_hosts(DEBIAN_HOSTS), name, multi=multi) == addresses


def test_lines_glibc_skips_are_kept_but_not_used():
    entries = parse_hosts(GLIBC_CHECKED, "/etc/hosts")
    skipped = [(entry["line"], entry["address"]) for entry in entries if not entry["valid"]]
    assert skipped == [(3, "10.0.0.300"), (5, "fe80::1%eth0"), (7, "010.1.1.1"), (8, "127.1")]
    assert entries[-2] == {"address": "10.9.9.9", "names": [], "line": 10, "valid": True}


def test_lookup_matches_glibc():
    entries = parse_hosts(GLIBC_CHECKED)
    assert hosts_lookup(entries, "host") == ["127.0.1.1", "10.0.0.5", "2001:db8::5", "::ffff:10.1.2.3"]
    assert hosts_lookup(entries, "host", multi=False) == ["127.0.1.1"]
    assert hosts_lookup(entries, "host2") == ["10.0.0.7"]
    assert hosts_lookup(entries, "comment") == []


@pytest.mark.parametrize(
    ("text", "multi"),
    [
        ((DATA / "host.conf").read_text(), True),
        ("", False),
        ("# multi on\n", False),
        ("order hosts,bind\n  MULTI On\n", True),
        ("multi on\nmulti off # later wins\n", False),
    ],
)
def test_host_conf_multi(text, multi):
    assert parse_host_conf(text) == {"multi": multi}
