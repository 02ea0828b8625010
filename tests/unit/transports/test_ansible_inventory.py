"""Ansible inventories (INI with children and group_vars, YAML, a directory, a dynamic script) read
by the real ansible-inventory and mapped onto host entries that reach hosts as Ansible would; bad
ones are one line naming the file and the host or variable."""

from __future__ import annotations

import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from migdoctor.transports import ansible_inventory as ansible
from migdoctor.transports import resolve_host, transport_for
from migdoctor.transports.inventory import InventoryError, load_inventory
from migdoctor.transports.ssh import FIRST_STAGE

# As Ansible users write them: a host outside any group, groups of groups, group and host vars,
# legacy INI booleans, a quoted ssh argument, an IPv6 address.
SITE_INI = """\
# hypervisors of site A
kvm0.example.org ansible_host=192.0.2.10

[rack1]
kvm1 ansible_host=192.0.2.11 ansible_port=2222 ansible_user=admin
kvm2 ansible_host=2001:db8::12 ansible_become=yes ansible_become_user=root

[rack2]
kvm3 ansible_host=192.0.2.13 ansible_ssh_private_key_file=/etc/migdoctor/id_kvm

[hypervisors:children]
rack1
rack2

[hypervisors:vars]
ansible_user=ops
ansible_python_interpreter=/usr/bin/python3.11
ansible_ssh_common_args='-F /etc/ssh/fleet_config -o ProxyJump="jump.example.org"'
"""
RACK1_GROUP_VARS = "migdoctor_migration_network: 198.51.100.0/24\nansible_ssh_extra_args: -o ConnectTimeout=9\n"
KVM3_HOST_VARS = "migdoctor_libvirt_uri: qemu+tls://kvm3-mgmt.example.org/system\nansible_become: true\n"

SITE_YAML = """\
all:
  children:
    hypervisors:
      hosts:
        kvm7:
          ansible_host: 203.0.113.7
          ansible_python_interpreter: auto_silent
        kvm8:
          ansible_host: 203.0.113.8
          migdoctor_peer_libvirt_uri: qemu+tls://kvm8-mig.example.org/system
          migdoctor_migration_network: [198.51.100.0/24, "2001:db8:0:100::/64"]
      vars:
        ansible_user: root
        migdoctor_migration_network: 198.51.100.0/24
"""

DYNAMIC = """\
#!{python}
# A dynamic inventory script as Ansible calls it: --list prints groups and _meta.hostvars.
import json, sys
assert sys.argv[1:] == ["--list"], sys.argv
print(json.dumps({{
    "kvm": {{"hosts": ["kvm9", "kvm10"], "vars": {{}}}},
    "_meta": {{"hostvars": {{
        "kvm9": {{"ansible_host": "192.0.2.9", "ansible_port": "22022", "migdoctor_migration_network": "198.51.100.0/24"}},
        "kvm10": {{"ansible_host": "192.0.2.10", "ansible_connection": "ansible.builtin.ssh"}}
    }}}}
}}))
"""


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """An INI inventory with group_vars/ and host_vars/ beside it, as Ansible finds them."""
    (tmp_path / "group_vars").mkdir()
    (tmp_path / "host_vars").mkdir()
    (tmp_path / "hosts.ini").write_text(SITE_INI)
    (tmp_path / "group_vars" / "rack1.yml").write_text(RACK1_GROUP_VARS)
    (tmp_path / "host_vars" / "kvm3.yml").write_text(KVM3_HOST_VARS)
    return tmp_path / "hosts.ini"


def test_an_ini_inventory_maps_connection_variables_group_vars_and_children(site: Path) -> None:
    inventory = load_inventory(str(site))

    assert inventory.path == str(site)
    assert inventory.hosts["kvm0.example.org"] == {"transport": "ssh://192.0.2.10"}
    common = ["-F", "/etc/ssh/fleet_config", "-o", "ProxyJump=jump.example.org"]
    assert inventory.hosts["kvm1"] == {
        "transport": "ssh://admin@192.0.2.11:2222",  # the host's ansible_user wins over the group's
        "ssh_args": [*common, "-o", "ConnectTimeout=9"],
        "python": "/usr/bin/python3.11",
        "migration_network": "198.51.100.0/24",
    }
    assert inventory.hosts["kvm2"]["transport"] == "ssh://ops@[2001:db8::12]"
    assert (inventory.hosts["kvm2"]["become"], inventory.hosts["kvm2"]["become_user"]) == (True, "root")
    assert inventory.hosts["kvm3"] == {
        "transport": "ssh://ops@192.0.2.13",
        "ssh_args": [*common, "-i", "/etc/migdoctor/id_kvm"],
        "become": True,
        "python": "/usr/bin/python3.11",
        "libvirt_uri": "qemu+tls://kvm3-mgmt.example.org/system",
    }
    assert inventory.groups == {
        "all": ["kvm0.example.org", "kvm1", "kvm2", "kvm3"],
        "ungrouped": ["kvm0.example.org"],
        "hypervisors": ["kvm1", "kvm2", "kvm3"],
        "rack1": ["kvm1", "kvm2"],
        "rack2": ["kvm3"],
    }


def test_hosts_from_ansible_are_reached_the_way_ansible_reaches_them(site: Path) -> None:
    inventory = load_inventory(str(site))

    kvm1 = transport_for(resolve_host("kvm1", inventory))
    argv = kvm1.far_side_argv()
    assert argv[:7] == [
        "ssh",
        "-F",
        "/etc/ssh/fleet_config",
        "-o",
        "ProxyJump=jump.example.org",
        "-o",
        "ConnectTimeout=9",
    ]
    assert argv[argv.index("-p") + 1] == "2222" and argv[-2] == "admin@192.0.2.11"
    assert shlex.split(argv[-1]) == ["exec", "/usr/bin/python3.11", "-c", FIRST_STAGE]
    assert kvm1.libvirt_uri == "qemu+ssh://admin@192.0.2.11:2222/system"
    kvm2 = transport_for(resolve_host("kvm2", inventory))
    assert shlex.split(kvm2.far_side_argv()[-1])[:6] == ["exec", "sudo", "-n", "-u", "root", "--"]
    assert transport_for(resolve_host("kvm3", inventory)).libvirt_uri == "qemu+tls://kvm3-mgmt.example.org/system"


def test_a_yaml_inventory_and_a_directory_of_them(tmp_path: Path) -> None:
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "hosts.yml").write_text(SITE_YAML)

    for source in (tmp_path / "site" / "hosts.yml", tmp_path / "site"):
        inventory = load_inventory(str(source))
        assert inventory.hosts == {
            "kvm7": {"transport": "ssh://root@203.0.113.7", "migration_network": "198.51.100.0/24"},
            "kvm8": {
                "transport": "ssh://root@203.0.113.8",
                "migration_network": ["198.51.100.0/24", "2001:db8:0:100::/64"],  # dual stack, as a list
                "peer_libvirt_uri": "qemu+tls://kvm8-mig.example.org/system",
            },
        }
        assert inventory.groups["hypervisors"] == ["kvm7", "kvm8"]


def test_a_dynamic_inventory_script_is_run_by_ansible(tmp_path: Path) -> None:
    script = tmp_path / "cloud.py"
    script.write_text(DYNAMIC.format(python=sys.executable))
    script.chmod(0o755)

    inventory = load_inventory(str(script))

    assert inventory.hosts == {
        "kvm9": {"transport": "ssh://192.0.2.9:22022", "migration_network": "198.51.100.0/24"},
        "kvm10": {"transport": "ssh://192.0.2.10"},
    }
    assert inventory.groups["kvm"] == ["kvm9", "kvm10"]


def test_a_file_that_parses_as_toml_stays_migdoctors(tmp_path: Path) -> None:
    toml = tmp_path / "hosts"  # no suffix: TOML because it parses as TOML
    toml.write_text('[hosts.kvm1]\ntransport = "ssh://root@kvm1"\n[groups]\nrack = ["kvm1"]\n')
    broken = tmp_path / "inventory.toml"
    broken.write_text("[hosts.kvm1\n")

    assert load_inventory(str(toml)).hosts == {"kvm1": {"transport": "ssh://root@kvm1"}}
    with pytest.raises(InventoryError, match=r"inventory\.toml: Expected ']' at the end of a table declaration"):
        load_inventory(str(broken))  # named .toml: its TOML error, not Ansible's


def bad_ini(tmp_path: Path, line: str) -> str:
    path = tmp_path / "hosts.ini"
    path.write_text(f"[kvm]\n{line}\n")
    return str(path)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (
            "kvm1 migdoctor_libvirt_uri=kvm1/system",
            r"hosts\.kvm1\.libvirt_uri: 'kvm1/system' does not match .* \(Ansible variable migdoctor_libvirt_uri\)$",
        ),
        (
            "kvm1 migdoctor_migration_network=198.51.100.0/33",
            r"hosts\.kvm1\.migration_network: .*198\.51\.100\.0/33.* \(Ansible variable migdoctor_migration_network\)$",
        ),
        ("kvm1 migdoctor_migraton_network=198.51.100.0/24", r"host kvm1: unknown variable migdoctor_migraton_network"),
        ("kvm1 ansible_port=ssh", r"host kvm1: ansible_port: 'ssh' is not a port number$"),
        ("kvm1 ansible_become=maybe", r"host kvm1: ansible_become = 'maybe' is not a boolean"),
        (
            "kvm1 ansible_become=true ansible_become_method=su",
            r"host kvm1: ansible_become_method=su: migdoctor becomes with `sudo -n` only$",
        ),
        (
            "kvm1 ansible_connection=winrm",
            r"host kvm1: ansible_connection=winrm: migdoctor reaches hosts over ssh, or local$",
        ),
        ("kvm1 ansible_host='{{ inventory_hostname }}.mgmt'", r"host kvm1: ansible_host = .* is a Jinja2 template"),
        ("kvm1 ansible_ssh_common_args='-o \"unclosed'", r"host kvm1: ansible_ssh_common_args: No closing quotation$"),
    ],
    ids=["bad-uri", "bad-network", "typo", "port", "boolean", "become-method", "connection", "template", "quoting"],
)
def test_bad_variables_are_one_line_naming_file_host_and_variable(tmp_path: Path, line: str, message: str) -> None:
    path = bad_ini(tmp_path, line)

    with pytest.raises(InventoryError) as caught:
        load_inventory(path)

    assert str(caught.value).startswith(f"{path}: ") and len(str(caught.value).splitlines()) == 1
    assert caught.match(message)


def test_a_vault_encrypted_variable_is_named(tmp_path: Path) -> None:
    data = {
        "kvm": {"hosts": ["kvm1"]},
        "_meta": {"hostvars": {"kvm1": {"ansible_host": {"__ansible_vault": "$ANSIBLE_VAULT;1.1;AES256\n6130"}}}},
    }

    with pytest.raises(InventoryError, match=r"^inv: host kvm1: ansible_host is vault-encrypted"):
        ansible.from_ansible(data, "inv")


def test_what_ansible_inventory_cannot_parse_is_its_first_reason(tmp_path: Path) -> None:
    path = bad_ini(tmp_path, "kvm1 ansible_host")

    with pytest.raises(InventoryError) as caught:
        load_inventory(path)

    assert caught.match(
        rf"^{path}: ansible-inventory failed: Failed to parse inventory with 'ini' plugin: .*"
        r"Expected key=value host variable assignment, got: ansible_host \(and it is not TOML: .*\)$"
    )


def test_a_failing_dynamic_script_is_named(tmp_path: Path) -> None:
    script = tmp_path / "cloud.sh"
    script.write_text("#!/bin/sh\necho 'cloud API: 401 Unauthorized' >&2\nexit 3\n")
    script.chmod(0o755)

    with pytest.raises(
        InventoryError,
        match=r"ansible-inventory failed: .*'script' plugin: Inventory script returned non-zero exit code 3",
    ):
        load_inventory(str(script))


def test_without_ansible_core_a_file_that_is_not_toml_is_one_line(site: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ansible, "ansible_command", lambda: None)

    with pytest.raises(InventoryError) as caught:
        load_inventory(str(site))

    assert caught.match(
        rf"^{site}: not a TOML inventory \(.*\), and reading it as an Ansible inventory needs ansible-core: "
        r"pip install 'migdoctor\[ansible\]'$"
    )


def test_the_cli_refuses_a_bad_ansible_inventory_before_contacting_any_host(tmp_path: Path) -> None:
    path = bad_ini(tmp_path, "kvm1 ansible_connection=docker")

    done = subprocess.run(
        [sys.executable, "-m", "migdoctor", "check", "kvm1", "kvm2", "--inventory", path],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )

    assert done.returncode == 2
    assert (
        done.stderr
        == f"migdoctor: {path}: host kvm1: ansible_connection=docker: migdoctor reaches hosts over ssh, or local\n"
    )
