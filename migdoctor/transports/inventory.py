"""The inventory: how to reach each host (TOML). The lab writes one; admins write their own."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ENV_VAR = "MIGDOCTOR_INVENTORY"
LAB_INVENTORY = Path("/run/migdoctor-lab/inventory.toml")
HOST_KEYS = {
    "transport",
    "ssh_config",
    "libvirt_uri",
    "peer_libvirt_uri",
    "remote_command",
    "python",
    "become",
    "become_user",
    "lab_host",
    "migration_network",
}


class InventoryError(Exception):
    """A one-line message naming the inventory file and what is wrong with it."""


@dataclass(frozen=True)
class Inventory:
    path: str | None = None
    hosts: dict[str, dict[str, Any]] = field(default_factory=dict)
    defaults: dict[str, Any] = field(default_factory=dict)


def inventory_path(explicit: str | None) -> Path | None:
    """--inventory, else $MIGDOCTOR_INVENTORY, else the running lab's inventory, else none."""
    if explicit:
        return Path(explicit)
    if os.environ.get(ENV_VAR):
        return Path(os.environ[ENV_VAR])
    return LAB_INVENTORY if LAB_INVENTORY.exists() else None


def parse_inventory(text: str, path: str) -> Inventory:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InventoryError(f"{path}: {exc}") from None
    hosts = data.get("hosts", {})
    if not isinstance(hosts, dict):
        raise InventoryError(f"{path}: [hosts] must be a table of hosts")
    for name, entry in hosts.items():
        if not isinstance(entry, dict):
            raise InventoryError(f"{path}: hosts.{name} must be a table")
        unknown = set(entry) - HOST_KEYS
        if unknown:
            raise InventoryError(f"{path}: hosts.{name}: unknown key {sorted(unknown)[0]!r}")
    return Inventory(path=path, hosts=hosts, defaults=data.get("defaults", {}))


def load_inventory(explicit: str | None = None) -> Inventory:
    path = inventory_path(explicit)
    if path is None:
        return Inventory()
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InventoryError(f"{path}: cannot read inventory: {exc.strerror}") from None
    return parse_inventory(text, str(path))
