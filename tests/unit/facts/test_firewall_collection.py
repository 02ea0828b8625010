"""What the firewall collector records from the commands a host has: every source with the
command that read it, a failed one under `unread` (never an empty table), a plain iptables-save
taken as legacy unless it is the nf_tables variant, and firewalld's files with /etc beside /usr/lib.
The commands are stand-ins here (tests/lab reads the real ones on the lab's hosts)."""

import json
import subprocess

import pytest

from migdoctor.facts import firewall
from migdoctor.facts.gaps import Gaps

RULESET = {"nftables": [{"metainfo": {"json_schema_version": 1}}]}
LEGACY = "*filter\n:INPUT DROP [0:0]\nCOMMIT\n"


@pytest.fixture
def host(monkeypatch, tmp_path):
    """A root host with the commands OUTPUTS names (an Exception is that command failing)."""
    outputs = {}
    monkeypatch.setattr(firewall.os, "geteuid", lambda: 0)
    monkeypatch.setattr(firewall.shutil, "which", lambda name: f"/usr/sbin/{name}" if name in outputs else None)
    monkeypatch.setattr(firewall, "FIREWALLD_DIRS", (str(tmp_path / "usr"), str(tmp_path / "etc")))

    def run_tool(argv):
        out = outputs[argv[0]]
        if isinstance(out, Exception):
            raise out
        return out[" ".join(argv[1:])] if isinstance(out, dict) else out

    monkeypatch.setattr(firewall, "run_tool", run_tool)
    return outputs


def test_every_installed_source_is_read_with_its_command(host):
    host.update({"nft": json.dumps(RULESET), "iptables-nft-save": "", "iptables-legacy-save": LEGACY})
    host["ip6tables-legacy-save"] = RuntimeError("ip6tables-legacy-save exited 1: can't initialize")
    gaps = Gaps()

    collected = firewall.collect_firewall(gaps)

    assert collected == {
        "sources": [
            {"command": "nft -j list ruleset", "kind": "nftables", "ruleset": RULESET},
            {"command": "iptables-nft-save", "kind": "iptables-nft", "family": "ip", "save": ""},
            {"command": "iptables-legacy-save", "kind": "iptables-legacy", "family": "ip", "save": LEGACY},
        ],
        "unread": [{"command": "ip6tables-legacy-save", "reason": "ip6tables-legacy-save exited 1: can't initialize"}],
        "firewalld": None,
    }
    assert gaps.entries == []


@pytest.mark.parametrize(
    ("version", "legacy"),
    [
        ("iptables-save v1.4.21", True),
        ("iptables-save v1.8.9 (legacy)", True),
        ("iptables-save v1.8.9 (nf_tables)", False),
    ],
)
def test_a_plain_iptables_save_is_legacy_unless_it_is_nf_tables(host, version, legacy):
    host["iptables-save"] = {"--version": version, "": LEGACY}

    collected = firewall.collect_firewall(Gaps())

    expected = [{"command": "iptables-save", "kind": "iptables-legacy", "family": "ip", "save": LEGACY}]
    assert collected == ({"sources": expected, "unread": [], "firewalld": None} if legacy else None)


def test_nothing_installed_or_not_root_is_a_gap(host, monkeypatch):
    gaps = Gaps()
    assert firewall.collect_firewall(gaps) is None
    monkeypatch.setattr(firewall.os, "geteuid", lambda: 1000)
    assert firewall.collect_firewall(gaps) is None
    assert [entry["reason"] for entry in gaps.entries] == [
        "none of nft, iptables-nft-save, iptables-legacy-save is installed",
        f"reading the ruleset {firewall.NOT_ROOT}",
    ]


def test_a_timed_out_command_is_unread(host):
    host["nft"] = subprocess.TimeoutExpired(["nft"], 10)

    collected = firewall.collect_firewall(Gaps())

    assert collected["sources"] == []
    assert collected["unread"] == [
        {"command": "nft -j list ruleset", "reason": "Command '['nft']' timed out after 10 seconds"}
    ]


def test_firewalld_zones_and_the_services_they_name_are_read_as_files(host, tmp_path):
    host["nft"] = json.dumps(RULESET)
    usr, etc = tmp_path / "usr", tmp_path / "etc"
    for path, text in {
        etc / "firewalld.conf": "DefaultZone=internal\n",
        usr / "zones" / "public.xml": '<zone><service name="ssh"/></zone>',
        usr / "zones" / "internal.xml": "<zone/>",
        etc / "zones" / "internal.xml": '<zone><interface name="b-fast"/><service name="libvirt"/></zone>',
        usr / "services" / "ssh.xml": '<service><port protocol="tcp" port="22"/></service>',
        usr / "services" / "libvirt.xml": '<service><port protocol="tcp" port="16509"/></service>',
        usr / "services" / "ftp.xml": '<service><port protocol="tcp" port="21"/></service>',
    }.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)

    files = firewall.collect_firewall(Gaps())["firewalld"]

    assert sorted(path.removeprefix(str(tmp_path)) for path in files) == [
        "/etc/firewalld.conf",
        "/etc/zones/internal.xml",
        "/usr/services/libvirt.xml",
        "/usr/services/ssh.xml",
        "/usr/zones/internal.xml",
        "/usr/zones/public.xml",
    ]
