"""The inventory: how to reach each host. TOML is migdoctor's own (the lab writes one); an Ansible
inventory is read through ansible-inventory (transports/ansible_inventory.py). Both pass the same
schema."""

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
    "migration_network",
    "ssh_args",
}


class InventoryError(Exception):
    """A one-line message naming the inventory file and what is wrong with it."""


@dataclass(frozen=True)
class Inventory:
    path: str | None = None
    hosts: dict[str, dict[str, Any]] = field(default_factory=dict)
    defaults: dict[str, Any] = field(default_factory=dict)
    groups: dict[str, list[str]] = field(default_factory=dict)  # group name -> host names


def inventory_path(explicit: str | None, lab: bool = True) -> Path | None:
    """--inventory, else $MIGDOCTOR_INVENTORY, else the running lab's inventory (unless LAB is
    False: judging saved facts must not borrow a lab that happens to run), else none."""
    if explicit:
        return Path(explicit)
    if os.environ.get(ENV_VAR):
        return Path(os.environ[ENV_VAR])
    return LAB_INVENTORY if lab and LAB_INVENTORY.exists() else None


def parse_inventory(text: str, path: str) -> Inventory:
    try:
        data = parse_toml(text, path)
    except tomllib.TOMLDecodeError as exc:
        raise InventoryError(f"{path}: {exc}") from None
    return checked(data, path)


def parse_toml(text: str, path: str) -> dict[str, Any]:
    """tomllib's document (TOMLDecodeError when TEXT is not TOML); one nested deeper than
    MAX_DEPTH is refused by name, as tomllib recurses without a bound of its own."""
    from migdoctor.bounded import MAX_DEPTH, nesting

    try:
        data = tomllib.loads(text)
    except RecursionError:
        data = None
    if data is None or nesting(data) > MAX_DEPTH:
        raise InventoryError(f"{path}: nested deeper than {MAX_DEPTH} levels, not a migdoctor inventory")
    return data


def checked(data: dict[str, Any], path: str, origins: dict[str, str] | None = None) -> Inventory:
    """DATA as an Inventory once it passes the schema; ORIGINS names where a key came from
    ("hosts.kvm1.libvirt_uri" -> "Ansible variable migdoctor_libvirt_uri") for the error."""
    from migdoctor.schemas import schema_errors

    def refuse(where: str, problem: str) -> InventoryError:
        origin = (origins or {}).get(where)
        return InventoryError(f"{path}: {where}: {problem}" + (f" ({origin})" if origin else ""))

    errors = schema_errors("inventory", data, separator=".")
    if errors:
        raise refuse(*errors[0].split(": ", 1))
    hosts = data.get("hosts", {})
    for name, entry in hosts.items():
        unknown = set(entry) - HOST_KEYS
        if unknown:
            raise InventoryError(f"{path}: hosts.{name}: unknown key {sorted(unknown)[0]!r}")
    networks = [("defaults", data.get("defaults", {}))] + [(f"hosts.{name}", entry) for name, entry in hosts.items()]
    from migdoctor.judging.pair import MigrationNetwork

    for where, table in networks:
        if "migration_network" in table:
            given = table["migration_network"]
            try:
                MigrationNetwork.parse(",".join(given) if isinstance(given, list) else given)
            except ValueError as exc:
                raise refuse(f"{where}.migration_network", str(exc)) from None
    return Inventory(path=path, hosts=hosts, defaults=data.get("defaults", {}), groups=data.get("groups", {}))


def load_inventory(explicit: str | None = None, lab: bool = True) -> Inventory:
    """The inventory file, TOML when it parses as TOML (or is named *.toml), else an Ansible
    inventory (a directory, INI, YAML, a dynamic inventory script)."""
    path = inventory_path(explicit, lab)
    if path is None:
        return Inventory()
    from migdoctor.bounded import read_input
    from migdoctor.transports.ansible_inventory import read_ansible_inventory

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
