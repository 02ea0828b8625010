"""Host specs and inventory entries become the right transport, and bad ones say why in one line."""

import shlex

import pytest

from migdoctor.transports import TRANSPORTS, Host, TransportError, parse_spec, resolve_host, transport_for
from migdoctor.transports.inventory import Inventory, InventoryError, parse_inventory
from migdoctor.transports.ssh import FIRST_STAGE, SshTransport

LAB_INVENTORY = """
[defaults]
migration_network = "198.51.100.0/24"

[hosts.hosta]
transport = "ssh://admin@hosta:2222"
ssh_config = "/run/migdoctor-lab/ssh_config"
libvirt_uri = "qemu+ssh://root@hosta/system"
become = true
become_user = "root"
python = "/usr/bin/python3.11"

[hosts.hostb]
transport = "ssh://root@hostb"
remote_command = "/opt/migdoctor/bin/migdoctor"
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


def test_every_way_of_reaching_a_host_is_a_registered_transport_class() -> None:
    for name in TRANSPORTS:
        transport = transport_for(Host("x", name, target="hostb"))
        assert transport.label == "x" and callable(transport.far_side_argv)


def test_a_bare_host_gets_python3_with_the_first_stage_under_sudo_when_become() -> None:
    host = resolve_host("hosta", parse_inventory(LAB_INVENTORY, "inv.toml"))
    transport = transport_for(host)
    assert isinstance(transport, SshTransport) and transport.bootstraps
    argv = transport.far_side_argv()
    assert argv[:1] == ["ssh"] and "-F" in argv and argv[argv.index("-p") + 1] == "2222"
    assert argv[-2] == "admin@hosta"
    remote = shlex.split(argv[-1])
    assert remote == ["exec", "sudo", "-n", "-u", "root", "--", "/usr/bin/python3.11", "-c", FIRST_STAGE]
    assert transport.libvirt_uri == "qemu+ssh://root@hosta/system"


def test_remote_command_runs_an_installed_migdoctor_and_become_comes_from_the_command_line() -> None:
    inventory = parse_inventory(LAB_INVENTORY, "inv.toml")
    transport = transport_for(resolve_host("hostb", inventory, become=True))
    assert not transport.bootstraps
    assert shlex.split(transport.far_side_argv()[-1]) == [
        "exec",
        "sudo",
        "-n",
        "--",
        "/opt/migdoctor/bin/migdoctor",
        "far-side",
    ]
    assert transport.libvirt_uri == "qemu+ssh://root@hostb/system"  # derived: the admin's ssh config applies


def test_a_dual_stack_migration_network_is_one_prefix_per_family() -> None:
    for given in ('"198.51.100.0/24,2001:db8:0:100::/64"', '["198.51.100.0/24", "2001:db8:0:100::/64"]'):
        assert parse_inventory(f"[defaults]\nmigration_network = {given}\n", "inv.toml").defaults["migration_network"]


def test_groups_name_their_hosts() -> None:
    inventory = parse_inventory('[hosts.kvm1]\n[groups]\nrack1 = ["kvm1", "kvm2"]\n', "inv.toml")

    assert inventory.groups == {"rack1": ["kvm1", "kvm2"]}


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
        ('[defaults]\nmigration_network = "10.0.0.0/33"\n', "inv.toml: defaults.migration_network: migration network '10.0.0.0/33' is not"),
        ('[defaults]\nmigration_nework = "10.0.0.0/8"\n', "inv.toml: defaults: Additional properties are not allowed"),
        ('[hosts.kvm1]\nmigration_network = "fast"\n', "inv.toml: hosts.kvm1.migration_network: migration network 'fast' is not"),
        ('[hosts.kvm1]\nbecome = "yes"\n', "inv.toml: hosts.kvm1.become: 'yes' is not of type 'boolean'"),
        ("[hosts.kvm1]\nbecome_user = 0\n", "inv.toml: hosts.kvm1.become_user: 0 is not of type 'string'"),
        ('[hosts.kvm1]\npeer_libvirt_uri = "kvm1"\n', "inv.toml: hosts.kvm1.peer_libvirt_uri: 'kvm1' does not match"),
        ('[defaults]\nmigration_network = ["10.0.0.0/8", "10.1.0.0/16"]\n', "inv.toml: defaults.migration_network: migration network '10.0.0.0/8,10.1.0.0/16': at most one prefix per"),
        ('[groups]\nrack1 = "kvm1"\n', "inv.toml: groups.rack1: 'kvm1' is not of type 'array'"),
        ('[groups]\nrack1 = ["kvm1", "kvm1"]\n', "inv.toml: groups.rack1: ['kvm1', 'kvm1'] has non-unique elements"),
    ],
    ids=[
        "typo-section", "wrong-type", "list-for-string", "uri-without-scheme", "hosts-not-table", "host-not-table",
        "space-in-spec", "empty", "control-characters", "bad-cidr", "typo-default", "network-not-cidr",
        "become-not-bool", "become-user-not-text", "peer-uri-without-scheme", "two-prefixes-one-family", "group-not-list",
        "group-twice",
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


def test_an_inventory_is_read_only_when_named(tmp_path, monkeypatch) -> None:
    """--inventory, else $MIGDOCTOR_INVENTORY; a running lab is never a default of the product."""
    from migdoctor.transports import inventory

    named = tmp_path / "inventory.toml"
    named.write_text(LAB_INVENTORY)
    monkeypatch.delenv(inventory.ENV_VAR, raising=False)
    assert inventory.load_inventory(None) == Inventory()
    assert inventory.load_inventory(str(named)).path == str(named)
    monkeypatch.setenv(inventory.ENV_VAR, str(named))
    assert inventory.load_inventory(None).path == str(named)


def test_the_production_path_does_not_import_the_lab() -> None:
    import subprocess
    import sys

    script = (
        "import sys\n"
        "import migdoctor.run.collect, migdoctor.run.judge, migdoctor.actions.migration, migdoctor.actions.watch, migdoctor.cli\n"
        "from migdoctor.transports import parse_spec, transport_for\n"
        "for spec in ('local', 'ssh://root@kvm1'):\n"
        "    transport_for(parse_spec('x', spec)).far_side_argv()\n"
        "print(sorted(name for name in sys.modules if name.startswith('migdoctor.lab')))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
