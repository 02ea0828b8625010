"""The far side as the Ansible collection runs it: each command given all its input at once, its
output read when it has ended (as ActionBase._low_level_execute_command does), here with this
machine's bare /usr/bin/python3 run by `sh -c` in place of Ansible's connection."""

from __future__ import annotations

import json
import shlex
import subprocess
from pathlib import Path
from typing import Any

import pytest

from migdoctor.schemas import schema_errors
from migdoctor.transports import Lookups, TransportError
from migdoctor.transports.ansible_connection import AnsibleTransport, ansible_host, first_rounds, gather_facts
from migdoctor.transports.inventory import InventoryError
from migdoctor.transports.ssh import FIRST_STAGE

BARE = {"ansible_connection": "local", "ansible_python_interpreter": "/usr/bin/python3"}


class Shell:
    """Runs what the action plugin would hand Ansible, and remembers it."""

    def __init__(self, prefix: list[str] | None = None) -> None:
        self.commands: list[tuple[str, int]] = []
        self.prefix = prefix or []  # the `offline` fixture's, when the far side looks names up

    def __call__(self, command: str, stdin: bytes) -> tuple[int, str, str]:
        self.commands.append((command, len(stdin)))
        argv = [*self.prefix, "/bin/sh", "-c", command]
        done = subprocess.run(argv, input=stdin, capture_output=True, timeout=60)
        return done.returncode, done.stdout.decode(errors="replace"), done.stderr.decode(errors="replace")


def test_facts_come_back_whole_from_a_far_side_given_all_its_input_at_once(offline: list[str]) -> None:
    shell = Shell(offline)

    record = gather_facts("kvm1", BARE, shell, Lookups(route_to=("127.0.0.1",), resolve=("localhost",)))

    assert schema_errors("facts", record) == []
    assert [item["destination"] for item in record["route_lookups"]] == ["127.0.0.1"]
    assert [item["name"] for item in record["resolution"]["lookups"]] == ["localhost"]
    assert any(gap["fact"] == "libvirt" for gap in record["missing"])  # asked from here, through qemu:///system
    (greeting, _), (call, sent) = shell.commands
    assert shlex.split(greeting) == shlex.split(call) == ["/usr/bin/python3", "-c", FIRST_STAGE, "--answer-all"]
    assert sent > 100_000  # the second stage and the bundle went with the request


def test_each_call_is_its_own_far_side_after_one_greeting() -> None:
    shell = Shell()
    transport = AnsibleTransport(ansible_host("kvm1", BARE), shell)

    assert "lo" in transport.call("link-counters")
    assert "lo" in transport.call("link-counters")
    assert len(shell.commands) == 3


def test_a_missing_python_is_one_line_naming_it() -> None:
    host = ansible_host("kvm1", {**BARE, "ansible_python_interpreter": "/nonexistent/python3"})

    with pytest.raises(TransportError, match=r"^kvm1: .*no /nonexistent/python3 there: install python3"):
        AnsibleTransport(host, Shell()).call("facts")


def test_a_far_side_error_names_host_and_command() -> None:
    with pytest.raises(TransportError, match=r"^kvm1: far-side 'no-such-command' failed: LookupError"):
        AnsibleTransport(ansible_host("kvm1", BARE), Shell()).call("no-such-command")


def test_streams_need_a_live_connection() -> None:
    with pytest.raises(TransportError, match=r"^kvm1: 'link-counters-follow' streams"):
        AnsibleTransport(ansible_host("kvm1", BARE), Shell()).stream("link-counters-follow", interval=1)


def test_the_host_is_read_as_from_an_inventory_with_become_left_to_ansible() -> None:
    host = ansible_host(
        "kvm7",
        {"ansible_host": "203.0.113.7", "ansible_user": "ops", "ansible_become": True, "ansible_become_user": "root"},
    )

    assert (host.libvirt_uri, host.python, host.become, host.become_user) == (
        "qemu+ssh://ops@203.0.113.7/system",
        "python3",
        False,
        None,
    )
    given = ansible_host("kvm7", {"migdoctor_libvirt_uri": "qemu+tls://kvm7/system", "ansible_connection": "local"})
    assert given.libvirt_uri == "qemu+tls://kvm7/system"
    assert ansible_host("kvm7", {"ansible_connection": "local"}).libvirt_uri == "qemu:///system"


CAPTURED = Path(__file__).parents[2] / "data" / "facts" / "healthy-report.json"


class Tagged(str):
    """A string as Ansible hands variables back: its own str subclass."""


def play(**extra: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """hostvars of a play of hosta and hostb after the first round: each its variables and its
    record as the fact migdoctor (EXTRA: variables changed per host)."""
    facts = json.loads(CAPTURED.read_text())["facts"]
    return {
        name: {
            "ansible_host": Tagged(f"{name}.example.org"),
            "migdoctor_migration_network": Tagged("198.51.100.0/24"),
            "ansible_facts": {"migdoctor": facts[side] | {"tool_version": Tagged(facts[side]["tool_version"])}},
        }
        | extra.get(name, {})
        for name, side in (("hosta", "source"), ("hostb", "destination"))
    }


def test_the_second_round_reads_every_hosts_first_record_and_its_entry_from_the_plays_variables() -> None:
    records, inventory, warnings = first_rounds("hosta", ["hosta", "hostb"], play())

    assert list(records) == ["hosta", "hostb"] and warnings == []
    assert records["hostb"]["identity"]["hostname"] == "hostb.lab.test"
    assert inventory.hosts["hostb"] == {"transport": "ssh://hostb.example.org", "migration_network": "198.51.100.0/24"}
    assert type(records["hostb"]["tool_version"]) is str  # plain again: the schema validator refuses str subclasses


def test_a_peer_without_a_usable_record_is_left_out_with_a_warning() -> None:
    hostvars = play(hostb={"ansible_facts": {"migdoctor": {"links": "not a record"}}})
    hostvars["kvm9"] = {"ansible_host": "kvm9.example.org"}  # in the inventory, not reached

    records, _, warnings = first_rounds("hosta", ["hosta", "hostb", "kvm9", "absent"], hostvars)

    assert list(records) == ["hosta"]
    assert warnings[0].startswith("hostb: not a migdoctor facts record: ") and warnings[0].endswith(
        "its pairs with hosta are not planned"
    )
    assert warnings[1:] == [
        f"{name}: no first-round record (the fact migdoctor): its pairs with hosta are not planned"
        for name in ("kvm9", "absent")
    ]


def test_the_host_without_its_own_first_record_says_which_task_comes_first() -> None:
    hostvars = play(hosta={"ansible_facts": {}})

    with pytest.raises(
        ValueError, match="^hosta: no first-round record .*run migdoctor.fleet.host_facts on every host first"
    ):
        first_rounds("hosta", ["hosta", "hostb"], hostvars)


def test_a_bad_migration_network_variable_is_one_line_naming_the_variable() -> None:
    hostvars = play(hostb={"migdoctor_migration_network": "198.51.100.0/33"})

    with pytest.raises(
        InventoryError, match=r"hostb.*migration_network.*\(Ansible variable migdoctor_migration_network\)$"
    ):
        first_rounds("hosta", ["hostb"], hostvars)
