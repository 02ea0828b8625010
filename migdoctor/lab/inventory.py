"""The inventory.toml `lab up` writes: how migdoctor itself reaches the lab hosts. They are
bare, as production hypervisors are: no migdoctor installed, the distribution's python3 alone.
The same hosts as an Ansible INI inventory, inventory.ini, for ansible-playbook and the
migdoctor.fleet collection (and `migdoctor -i inventory.ini`, which reads it back the same)."""

import shlex
from typing import Any
from urllib.parse import urlsplit

import tomli_w

from migdoctor.lab import layout, ssh
from migdoctor.lab.scenario import Scenario

FILE = layout.STATE_DIR / "inventory.toml"
ANSIBLE_FILE = layout.STATE_DIR / "inventory.ini"
GROUP = "lab"  # every host of the running lab, for `check --all --group lab`


def libvirt_uri(h: layout.Host) -> str:
    return f"qemu+ssh://root@{h.name}/system?command={ssh.SSH_WRAPPER}"


def build(scn: Scenario) -> dict[str, Any]:
    """migdoctor reaches each host over ssh; a scenario may give the hosts' libvirtds another URI
    to reach each other by (peer_libvirt_uri), and the migration network (one prefix per family).
    One group holds every host."""
    hosts = {
        h.name: {
            "transport": f"ssh://root@{h.name}",
            "ssh_config": str(ssh.SSH_CONFIG),
            "libvirt_uri": libvirt_uri(h),
        }
        | ({"peer_libvirt_uri": uri} if (uri := scn.hosts[h.name].peer_libvirt_uri) else {})
        for h in scn.lab_hosts
    }
    return {"defaults": {"migration_network": scn.migration_network}, "hosts": hosts, "groups": {GROUP: list(hosts)}}


def ansible_ini(document: dict[str, Any]) -> str:
    """DOCUMENT (build's) as Ansible variables: ansible_host/ansible_user from the transport, the
    ssh config as ssh arguments, every other key as migdoctor_<key>."""
    lines = ["# written by migdoctor lab: inventory.toml's hosts for Ansible", f"[{GROUP}]"]
    for name, entry in document["hosts"].items():
        url = urlsplit(entry["transport"])
        variables = {"ansible_host": url.hostname, "ansible_user": url.username}
        variables["ansible_ssh_common_args"] = f"-F {entry['ssh_config']}"
        variables |= {
            f"migdoctor_{key}": value for key, value in entry.items() if key not in ("transport", "ssh_config")
        }
        lines.append(" ".join([name, *(f"{key}={shlex.quote(str(value))}" for key, value in variables.items())]))
    network = document["defaults"]["migration_network"]
    return "\n".join([*lines, "", f"[{GROUP}:vars]", f"migdoctor_migration_network={shlex.quote(network)}", ""])


def write(scn: Scenario) -> None:
    document = build(scn)
    FILE.write_text(tomli_w.dumps(document))
    ANSIBLE_FILE.write_text(ansible_ini(document))
