"""The inventory: how to reach each host. TOML is migdoctor's own (the lab writes one); an Ansible
inventory is read through ansible-inventory (transports/ansible_inventory.py). Both pass the same
schema (transports/inventory_data.py). No inventory is found unless named: --inventory, else
$MIGDOCTOR_INVENTORY (`migdoctor lab up` prints the line that sets it for the lab)."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

from migdoctor.transports.ansible_inventory import read_ansible_inventory
from migdoctor.transports.inventory_data import Inventory, InventoryError, checked, parse_toml

__all__ = ["ENV_VAR", "Inventory", "InventoryError", "load_inventory", "parse_inventory"]

ENV_VAR = "MIGDOCTOR_INVENTORY"


def inventory_path(explicit: str | None) -> Path | None:
    """--inventory, else $MIGDOCTOR_INVENTORY, else none."""
    if explicit:
        return Path(explicit)
    return Path(os.environ[ENV_VAR]) if os.environ.get(ENV_VAR) else None


def parse_inventory(text: str, path: str) -> Inventory:
    try:
        data = parse_toml(text, path)
    except tomllib.TOMLDecodeError as exc:
        raise InventoryError(f"{path}: {exc}") from None
    return checked(data, path)


def load_inventory(explicit: str | None = None) -> Inventory:
    """The inventory file, TOML when it parses as TOML (or is named *.toml), else an Ansible
    inventory (a directory, INI, YAML, a dynamic inventory script)."""
    path = inventory_path(explicit)
    if path is None:
        return Inventory()
    from migdoctor.bounded import read_input

    if path.is_dir():
        return read_ansible_inventory(path)
    try:
        text = read_input(path)
    except OSError as exc:
        raise InventoryError(f"{path}: cannot read inventory: {exc.strerror}") from None
    except ValueError as exc:
        raise InventoryError(f"{path}: {exc}") from None
    try:
        data = parse_toml(text, str(path))
    except tomllib.TOMLDecodeError as exc:
        if path.suffix == ".toml":
            raise InventoryError(f"{path}: {exc}") from None
        return read_ansible_inventory(path, not_toml=str(exc))
    return checked(data, str(path))
