"""Host specs and inventory entries become the right transport, and bad ones say why in one line."""

import pytest

from migdoctor.transports import (
    Host,
    Lookups,
    TransportError,
    command_argv,
    parse_spec,
    resolve_host,
)
from migdoctor.transports.inventory import Inventory, InventoryError, parse_inventory

LAB_INVENTORY = """
[defaults]
migration_network = "198.51.100.0/24"

[hosts.hosta]
transport = "ssh://root@hosta:2222"
ssh_config = "/run/migdoctor-lab/ssh_config"
remote_command = "/opt/migdoctor/bin/migdoctor"
libvirt_uri = "qemu+ssh://root@hosta/system"
"""


def test_ssh_url_with_user_and_port() -> None:
    host = parse_spec("a", "ssh://admin@kvm1.example.org:2222")
    assert (host.transport, host.target, host.port) == ("ssh", "admin@kvm1.example.org", 2222)


def test_bare_name_goes_over_ssh_and_local_stays_local() -> None:
    assert parse_spec("kvm1", "kvm1").transport == "ssh"
    assert parse_spec("x", "local").transport == "local"
    assert parse_spec("x", "lab:hostb") == Host("x", "lab", target="hostb")


def test_unknown_scheme_is_one_line_error() -> None:
    with pytest.raises(TransportError, match=r"^kvm1: unknown transport in 'winrm://kvm1'"):
        parse_spec("kvm1", "winrm://kvm1")


def test_inventory_entry_decides_transport_and_remote_command() -> None:
    inventory = parse_inventory(LAB_INVENTORY, "inv.toml")
    host = resolve_host("hosta", inventory)
    argv = command_argv(host, Lookups(resolve=("hostb.lab.test",)).arguments())
    assert argv[:1] == ["ssh"] and "-F" in argv and argv[argv.index("-p") + 1] == "2222"
    assert argv[-2:] == ["root@hosta", "/opt/migdoctor/bin/migdoctor facts --json --resolve hostb.lab.test"]
    assert inventory.defaults["migration_network"] == "198.51.100.0/24"


def test_names_missing_from_inventory_are_reached_by_name() -> None:
    assert resolve_host("kvm9", Inventory()).target == "kvm9"


def test_inventory_errors_name_file_and_key() -> None:
    with pytest.raises(InventoryError, match=r"^inv.toml: hosts.a: unknown key 'adress'"):
        parse_inventory('[hosts.a]\nadress = "x"\n', "inv.toml")
    with pytest.raises(InventoryError, match=r"^inv.toml: .*line 1"):
        parse_inventory("[hosts\n", "inv.toml")
