"""The inventory.toml `lab up` writes: how migdoctor itself reaches the lab hosts. They are
bare, as production hypervisors are: no migdoctor installed, the distribution's python3 alone."""

from typing import Any

import tomli_w

from migdoctor.lab import layout, ssh
from migdoctor.lab.scenario import Scenario

FILE = layout.STATE_DIR / "inventory.toml"
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
            "lab_host": h.name,
        }
        | ({"peer_libvirt_uri": uri} if (uri := scn.hosts[h.name].peer_libvirt_uri) else {})
        for h in scn.lab_hosts
    }
    return {"defaults": {"migration_network": scn.migration_network}, "hosts": hosts, "groups": {GROUP: list(hosts)}}


def write(scn: Scenario) -> None:
    FILE.write_text(tomli_w.dumps(build(scn)))
