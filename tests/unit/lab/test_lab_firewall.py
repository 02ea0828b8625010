"""Scenarios that set a host's firewall up with the real tools: what they parse into, which programs
they need and which of the machine's paths the host keeps private. Pure data, no root needed; the
lab tests (tests/lab/test_firewall_lab.py) bring them up for real."""

import tomllib
from pathlib import Path

import pytest

from migdoctor.lab import hostfs, layout, lifecycle, scenario
from migdoctor.lab.errors import LabError

FIREWALL_SCENARIOS = {
    "firewalld": {"dbus-daemon", "firewalld", "firewall-cmd"},
    "firewalld-wrong-zone": {"dbus-daemon", "firewalld", "firewall-cmd"},
    "firewalld-runtime-only": {"dbus-daemon", "firewalld", "firewall-cmd"},
    "ufw": {"ufw"},
    "ufw-partial-port-range": {"ufw"},
    "iptables-legacy": {"iptables-legacy"},
    "iptables-legacy-partial-port-range": {"iptables-legacy"},
}


@pytest.mark.parametrize(("name", "programs"), FIREWALL_SCENARIOS.items(), ids=list(FIREWALL_SCENARIOS))
def test_firewall_scenarios_set_up_hostb_alone_with_their_tools(name, programs):
    scn = scenario.load(name)
    hostb, hosta = scn.hosts["hostb"], scn.hosts["hosta"]
    assert hostb.programs == programs and hostb.firewall_tools
    assert hostb.nftables == ""  # the tools own hostb's filter
    assert not hosta.firewall_tools and "policy drop" in hosta.nftables
    assert hostb.firewalld == ("firewalld" in programs)


def test_placeholders_are_filled_in_set_up_commands():
    wrong_zone = scenario.load("firewalld-wrong-zone").hosts["hostb"].firewall_setup
    assert ["firewall-cmd", "--permanent", "--zone=internal", "--add-interface=b-fast"] in wrong_zone
    assert ["firewall-cmd", "--permanent", "--zone=public", "--add-port=49152-49215/tcp"] in wrong_zone
    assert wrong_zone[-1] == ["firewall-cmd", "--reload"]
    runtime = scenario.load("firewalld-runtime-only").hosts["hostb"].firewall_setup
    assert runtime[-1] == ["firewall-cmd", "--zone=public", "--add-port=49152-49215/tcp"]  # after the reload
    ufw = scenario.load("ufw-partial-port-range").hosts["hostb"].firewall_setup
    assert ["ufw", "allow", "in", "on", "b-fast", "proto", "tcp", "to", "any", "port", "49152:49199"] in ufw
    assert ufw[-1] == ["ufw", "--force", "enable"]


def test_a_host_running_firewall_tools_keeps_their_state_private():
    scn = scenario.load("ufw")
    hostb = layout.ALL_HOSTS["hostb"]
    private = {dst: src for src, dst in hostfs.mounts(hostb, scn.hosts["hostb"])}
    for name, path in {**layout.FIREWALL_STATE, **layout.FIREWALL_RUN}.items():
        assert private[path] == hostb.dir / name
    tool_paths = {*layout.FIREWALL_STATE.values(), *layout.FIREWALL_RUN.values()}
    hosta = {dst for _, dst in hostfs.mounts(layout.ALL_HOSTS["hosta"], scn.hosts["hosta"])}
    healthy = {dst for _, dst in hostfs.mounts(hostb, scenario.load("healthy").hosts["hostb"])}
    assert not (hosta | healthy) & tool_paths


def test_lock_files_are_recorded_for_removal_only_when_absent_and_tools_run(tmp_path, monkeypatch):
    present, absent = tmp_path / "xtables.lock", tmp_path / "ufw.lock"
    present.touch()
    monkeypatch.setattr(layout, "FIREWALL_LOCKS", (str(present), str(absent)))
    assert hostfs.lock_files_left(scenario.load("ufw")) == [str(absent)]
    assert hostfs.lock_files_left(scenario.load("healthy")) == []
    absent.touch()
    stranger = tmp_path / "not-a-lock"
    stranger.touch()
    hostfs.remove_files([str(absent), str(stranger)])  # a record read back from disk names only locks
    assert not absent.exists() and stranger.exists() and present.exists()


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ('firewall_setup = ["ufw enable"]', "firewall_setup must be a list of commands, each a list of strings"),
        ("firewall_setup = [[]]", "firewall_setup must be a list of commands"),
        ('firewall_setup = [["ufw", 1]]', "firewall_setup must be a list of commands"),
        ('firewall_setup = "ufw enable"', "firewall_setup must be a list"),
        ('firewalld = "yes"', "firewalld must be a bool"),
    ],
)
def test_bad_firewall_keys_are_one_line_errors_naming_scenario_host_and_key(tmp_path, monkeypatch, value, message):
    (tmp_path / "_base.toml").write_text((Path(scenario.__file__).parent / "scenarios" / "_base.toml").read_text())
    (tmp_path / "broken.toml").write_text(f"[hosts.hostb]\n{value}\n")
    tomllib.loads((tmp_path / "broken.toml").read_text())  # valid TOML: the lab refuses it, not the parser
    monkeypatch.setattr(scenario, "_dir", lambda: tmp_path)
    with pytest.raises(LabError, match=f"^scenario broken, host hostb: {message}") as raised:
        scenario.load("broken")
    assert "\n" not in str(raised.value)


def test_a_scenario_whose_tools_are_missing_is_refused_before_anything_is_built(monkeypatch):
    monkeypatch.setattr(lifecycle.shutil, "which", lambda program: None if program == "ufw" else f"/usr/sbin/{program}")
    with pytest.raises(LabError, match="^scenario ufw needs ufw: run scripts/setup.sh$"):
        lifecycle._need_programs(scenario.load("ufw"))
    lifecycle._need_programs(scenario.load("firewalld"))
