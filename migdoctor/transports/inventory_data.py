"""The inventory as data: the hosts' entries, groups and defaults once they pass the inventory
schema, whichever file they were read from (TOML here, an Ansible inventory in
ansible_inventory.py)."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from typing import Any

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
