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


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[host.kvm1]\ntransport = "local"\n', "inv.toml: (top): Additional properties are not allowed ('host' was"),
        ("[hosts.kvm1]\ntransport = 22\n", "inv.toml: hosts.kvm1.transport: 22 is not of type 'string'"),
        ('[hosts.kvm1]\nlibvirt_uri = ["a"]\n', "inv.toml: hosts.kvm1.libvirt_uri: ['a'] is not of type 'string'"),
        ('[hosts.kvm1]\nlibvirt_uri = "kvm1"\n', "inv.toml: hosts.kvm1.libvirt_uri: 'kvm1' does not match"),
        ("hosts = 3\n", "inv.toml: hosts: 3 is not of type 'object'"),
        ("[hosts]\nkvm1 = 3\n", "inv.toml: hosts.kvm1: 3 is not of type 'object'"),
        ('[hosts.kvm1]\ntransport = "ssh://a b"\n', "inv.toml: hosts.kvm1.transport: 'ssh://a b' does not match"),
        ('[hosts.kvm1]\nremote_command = ""\n', "inv.toml: hosts.kvm1.remote_command: '' should be non-empty"),
        ('[hosts.kvm1]\ntransport = "kvm1\\u001b[2J"\n', "inv.toml: hosts.kvm1.transport: 'kvm1\\x1b[2J' does not match"),
        ('[defaults]\nmigration_network = "10.0.0.0/33"\n', "inv.toml: defaults.migration_network: '10.0.0.0/33' does not"),
        ('[defaults]\nmigration_nework = "10.0.0.0/8"\n', "inv.toml: defaults: Additional properties are not allowed"),
        ('[hosts.kvm1]\nmigration_network = "fast"\n', "inv.toml: hosts.kvm1.migration_network: 'fast' does not"),
    ],
    ids=[
        "typo-section", "wrong-type", "list-for-string", "uri-without-scheme", "hosts-not-table", "host-not-table",
        "space-in-spec", "empty", "control-characters", "bad-cidr", "typo-default", "network-not-cidr",
    ],
)  # fmt: skip
def test_inventory_schema_errors_name_file_and_key(text: str, message: str) -> None:
    with pytest.raises(InventoryError) as raised:
        parse_inventory(text, "inv.toml")

    assert str(raised.value).startswith(message) and "\n" not in str(raised.value)


@pytest.mark.parametrize("port", ["99999", "abc", "-1"])
def test_ssh_port_out_of_range_names_the_host(port: str) -> None:
    with pytest.raises(TransportError, match=rf"^kvm1: Port .* in 'ssh://kvm1:{port}'$"):
        parse_spec("kvm1", f"ssh://kvm1:{port}")


def test_saved_facts_never_borrow_the_running_labs_inventory(tmp_path, monkeypatch) -> None:
    from migdoctor.transports import inventory

    lab = tmp_path / "inventory.toml"
    lab.write_text(LAB_INVENTORY)
    monkeypatch.setattr(inventory, "LAB_INVENTORY", lab)
    monkeypatch.delenv(inventory.ENV_VAR, raising=False)

    assert inventory.load_inventory(None).path == str(lab)
    assert inventory.load_inventory(None, lab=False) == Inventory()
