"""The lab's Ansible inventory (inventory.ini) says what its inventory.toml says: read back through
the real ansible-inventory, every host entry is the TOML one, the ssh config given as ssh args."""

from __future__ import annotations

from pathlib import Path

import pytest

from migdoctor.lab import inventory
from migdoctor.lab.scenario import load
from migdoctor.transports.inventory import load_inventory


@pytest.mark.parametrize("scenario", ["seed", "tls", "ipv6-literal"])
def test_the_ansible_inventory_reads_back_as_the_toml_one(tmp_path: Path, scenario: str) -> None:
    document = inventory.build(load(scenario))
    path = tmp_path / "inventory.ini"
    path.write_text(inventory.ansible_ini(document))

    read = load_inventory(str(path))

    expected = {
        name: {
            **{key: value for key, value in entry.items() if key != "ssh_config"},
            "ssh_args": ["-F", entry["ssh_config"]],
            "migration_network": document["defaults"]["migration_network"],
        }
        for name, entry in document["hosts"].items()
    }
    assert read.hosts == expected
    assert read.groups[inventory.GROUP] == list(document["hosts"])
