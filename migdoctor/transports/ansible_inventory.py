"""Ansible inventories (INI, YAML, a directory with group_vars and host_vars, a dynamic inventory
script) read by Ansible itself, `ansible-inventory --list`, so its parsers, plugins, group_vars and
variable precedence decide; each host's variables are then mapped onto migdoctor's host entry and
the result passes the same schema as a TOML inventory. ansible-core is an optional extra
(`migdoctor[ansible]`): TOML inventories need none of it."""

from __future__ import annotations

import os
import re
import resource
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from migdoctor.bounded import MAX_INPUT_BYTES
from migdoctor.transports.inventory_data import HOST_KEYS, Inventory, InventoryError, checked

COMMAND = "ansible-inventory"
# An inventory is read or refused within 30 s, and ansible-inventory's memory with migdoctor's own
# stays under 1 GiB (10,000 hosts take it 8 s and 90 MiB).
TIMEOUT_S = 25.0
MEMORY_BYTES = 512 * 2**20  # resident, watched every 50 ms
BACKSTOP_BYTES = 768 * 2**20  # address space, set before it starts
# Ansible's verdict on an inventory source it cannot parse is a warning and an empty inventory;
# these make it an error with its reason.
STRICT = {"ANSIBLE_INVENTORY_UNPARSED_FAILED": "1", "ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED": "1"}
# migdoctor's own host settings as Ansible host or group variables: migdoctor_<key of HOST_KEYS>.
PREFIX = "migdoctor_"
# Variables of the collection's playbook (ansible_collections/migdoctor/fleet), not host settings.
PLAYBOOK_VARS = {"migdoctor_facts_dir"}
LIST_KEYS = {"ssh_args", "migration_network"}  # a dual-stack network: one prefix per family
SSH_CONNECTIONS = {"ssh", "smart", "paramiko", "paramiko_ssh"}
# `ansible-inventory --list` as migdoctor reads it: a dynamic script's names and variables pass
# through Ansible, whatever their types.
NAMES = {"type": "array", "items": {"type": "string"}}
LIST_ANSWER = {
    "type": "object",
    "properties": {
        "_meta": {
            "type": "object",
            "properties": {"hostvars": {"type": "object", "additionalProperties": {"type": "object"}}},
        }
    },
    "additionalProperties": {"type": "object", "properties": {"hosts": NAMES, "children": NAMES}},
}
# Ansible's boolean words (ansible.module_utils.parsing.convert_bool), as INI and YAML give them.
TRUE = {"y", "yes", "on", "1", "true", "t"}
FALSE = {"n", "no", "off", "0", "false", "f"}


def read_ansible_inventory(path: Path, not_toml: str | None = None) -> Inventory:
    """The inventory at PATH as Ansible reads it; NOT_TOML is why it was not read as TOML."""
    document, origins = from_ansible(list_inventory(path, not_toml), str(path))
    return checked(document, str(path), origins)


def ansible_command() -> str | None:
    """ansible-inventory beside this Python (the extra installed into migdoctor's environment),
    else on PATH."""
    here = Path(sys.executable).parent / COMMAND
    return str(here) if os.access(here, os.X_OK) else shutil.which(COMMAND)


def list_inventory(path: Path, not_toml: str | None = None) -> dict[str, Any]:
    """`ansible-inventory -i PATH --list`, its JSON; a one-line error naming PATH otherwise. It runs
    bounded (TIMEOUT_S, MEMORY_BYTES resident, an answer of MAX_INPUT_BYTES): an inventory that
    expands without bound (YAML aliases nested in aliases) is refused, not followed until the
    machine gives out."""
    from migdoctor.bounded import parse_json

    also = f" (and it is not TOML: {not_toml})" if not_toml else ""
    command = ansible_command()
    if command is None:
        raise InventoryError(
            f"{path}: not a TOML inventory{f' ({not_toml})' if not_toml else ''}, and reading it as an "
            "Ansible inventory needs ansible-core: pip install 'migdoctor[ansible]'"
        )
    unbounded = "the inventory expands without bound (YAML aliases nested in aliases?)"
    with tempfile.TemporaryFile() as answer, tempfile.TemporaryFile() as errors:
        with subprocess.Popen(
            [command, "-i", str(path), "--list"],
            stdin=subprocess.DEVNULL,
            stdout=answer,
            stderr=errors,
            env={**os.environ, **STRICT, "ANSIBLE_NOCOLOR": "1"},
            preexec_fn=bounded_child,  # setrlimit only: no lock another thread may hold
        ) as process:
            deadline = time.monotonic() + TIMEOUT_S
            while process.poll() is None:
                if resident_bytes(process.pid) > MEMORY_BYTES:
                    process.kill()
                    raise InventoryError(
                        f"{path}: ansible-inventory needed more than {MEMORY_BYTES // 2**20} MiB of memory: {unbounded}"
                    )
                if time.monotonic() > deadline:
                    process.kill()
                    raise InventoryError(
                        f"{path}: ansible-inventory gave no answer within {TIMEOUT_S:g} s: {unbounded}, or a script it "
                        f"runs waits on something{also}"
                    )
                time.sleep(0.05)
        errors.seek(0)
        stderr = errors.read(2**20).decode(errors="replace")
        answer.seek(0)
        stdout = answer.read(MAX_INPUT_BYTES + 1)
    if len(stdout) > MAX_INPUT_BYTES:
        raise InventoryError(f"{path}: ansible-inventory's answer is larger than {MAX_INPUT_BYTES // 2**20} MiB")
    if process.returncode != 0:
        raise InventoryError(f"{path}: ansible-inventory failed: {first_error(stderr, process.returncode)}{also}")
    try:
        data = parse_json(stdout)
    except ValueError as exc:
        raise InventoryError(f"{path}: ansible-inventory printed no JSON inventory ({exc})") from None
    if not isinstance(data, dict):
        raise InventoryError(f"{path}: ansible-inventory printed no JSON inventory (a {type(data).__name__})")
    return checked_answer(data, str(path))


def checked_answer(data: dict[str, Any], path: str) -> dict[str, Any]:
    """DATA once its groups, hosts and variables have the types LIST_ANSWER gives them; a one-line
    error naming the first that does not."""
    from migdoctor.schemas import errors_against

    errors = errors_against(LIST_ANSWER, data, ".")
    if errors:
        raise InventoryError(f"{path}: not an inventory in ansible-inventory's answer: {errors[0]}")
    return data


def resident_bytes(pid: int) -> int:
    """PID's resident memory (0 once it is gone)."""
    try:
        with open(f"/proc/{pid}/statm", encoding="ascii") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, IndexError, ValueError):
        return 0


def bounded_child() -> None:
    """In ansible-inventory's process before it starts: a backstop of BACKSTOP_BYTES of address
    space for what grows faster than the watch on its resident memory sees, and no file (its
    answer) past MAX_INPUT_BYTES."""
    for kind, limit in ((resource.RLIMIT_AS, BACKSTOP_BYTES), (resource.RLIMIT_FSIZE, MAX_INPUT_BYTES + 1)):
        hard = resource.getrlimit(kind)[1]
        resource.setrlimit(kind, (limit, hard) if hard == resource.RLIM_INFINITY else (min(limit, hard), hard))


def first_error(stderr: str, status: int) -> str:
    """Ansible's reason in one line: the first plugin's parse failure (its warning comes before
    the bare "Completely failed to parse"), else the first error line, else the first line."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    reasons = [line for line in lines if "Failed to parse" in line or "ERROR" in line]
    return re.sub(r"^\[?(WARNING|ERROR)\]?[:!]\s*(\*\s*)?", "", (reasons or lines or [f"exit status {status}"])[0])


def from_ansible(data: Mapping[str, Any], path: str) -> tuple[dict[str, Any], dict[str, str]]:
    """`ansible-inventory --list` output as migdoctor's inventory document (hosts and groups, each
    group with its children's hosts), and which Ansible variable gave each host key."""
    groups = flatten_groups(data)
    hostvars = (data.get("_meta") or {}).get("hostvars") or {}
    hosts: dict[str, dict[str, Any]] = {}
    origins: dict[str, str] = {}
    for name in dict.fromkeys(
        [*groups.get("all", []), *(h for members in groups.values() for h in members), *hostvars]
    ):
        entry, used = host_entry(path, name, hostvars.get(name) or {})
        hosts[name] = entry
        origins |= {f"hosts.{name}.{key}": f"Ansible variable {var}" for key, var in used.items()}
    return {"hosts": hosts, "groups": groups}, origins


def flatten_groups(data: Mapping[str, Any]) -> dict[str, list[str]]:
    """Group name -> its hosts and its descendants', in Ansible's order. Each group's are worked
    out once, without recursion: groups nest as deep as a script makes them, and a group with many
    parents is not walked once per path to it. A cycle (Ansible refuses them; a script's answer may
    hold one) is cut where it closes."""
    done: dict[str, list[str]] = {}
    entered: set[str] = set()

    def children(name: str) -> list[str]:
        return list((data.get(name) or {}).get("children") or [])

    for top in data:
        if top == "_meta" or top in done:
            continue
        entered.add(top)
        stack = [(top, iter(children(top)))]
        while stack:
            name, pending = stack[-1]
            child = next((c for c in pending if c not in entered), None)
            if child is not None:
                entered.add(child)
                stack.append((child, iter(children(child))))
                continue
            stack.pop()
            found = list((data.get(name) or {}).get("hosts") or [])
            done[name] = list(dict.fromkeys(found + [host for c in children(name) for host in done.get(c, [])]))
    return {name: done[name] for name in data if name != "_meta"}


def host_entry(path: str, name: str, hostvars: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """NAME's host entry from its variables (host and group vars, merged by Ansible), and the
    variable each key came from. migdoctor_<key> variables win over what ansible_* ones imply."""
    where = f"{path}: host {name}"

    def value(*names: str) -> tuple[str, Any] | None:
        for var in names:
            if var in hostvars and hostvars[var] is not None:
                return var, scalar(where, var, hostvars[var])
        return None

    entry: dict[str, Any] = {}
    used: dict[str, str] = {}
    connection = value("ansible_connection")
    kind = str(connection[1]).removeprefix("ansible.builtin.") if connection else "ssh"
    if kind == "local":
        entry["transport"], used["transport"] = "local", "ansible_connection"
    elif kind in SSH_CONNECTIONS:
        entry["transport"], used["transport"] = ssh_transport(where, name, value), "ansible_host"
    else:
        raise InventoryError(f"{where}: ansible_connection={kind}: migdoctor reaches hosts over ssh, or local")
    ssh_args: list[str] = []
    for var in ("ansible_ssh_common_args", "ansible_ssh_extra_args"):
        if found := value(var):
            try:
                ssh_args += shlex.split(str(found[1]))
            except ValueError as exc:
                raise InventoryError(f"{where}: {var}: {exc}") from None
            used["ssh_args"] = var
    if found := value("ansible_ssh_private_key_file", "ansible_private_key_file"):
        ssh_args += ["-i", str(found[1])]
        used["ssh_args"] = found[0]
    if ssh_args:
        entry["ssh_args"] = ssh_args
    if (found := value("ansible_become")) and boolean(where, *found):
        method = value("ansible_become_method")
        if method and method[1] != "sudo":
            raise InventoryError(f"{where}: ansible_become_method={method[1]}: migdoctor becomes with `sudo -n` only")
        entry["become"], used["become"] = True, found[0]
    if found := value("ansible_become_user"):
        entry["become_user"], used["become_user"] = str(found[1]), found[0]
    if (found := value("ansible_python_interpreter")) and not str(found[1]).startswith("auto"):
        entry["python"], used["python"] = str(found[1]), found[0]  # auto*: Ansible's discovery, python3 here
    for var in sorted(hostvars):
        key = var.removeprefix(PREFIX)
        if not var.startswith(PREFIX) or var in PLAYBOOK_VARS:
            continue
        if key not in HOST_KEYS:
            known = ", ".join(PREFIX + k for k in sorted(HOST_KEYS))
            raise InventoryError(f"{where}: unknown variable {var} (migdoctor's are {known})")
        # Its type is the schema's to judge; a list only where a TOML inventory takes one.
        entry[key] = hostvars[var] if key in LIST_KEYS else scalar(where, var, hostvars[var])
        used[key] = var
    return entry, used


def ssh_transport(where: str, name: str, value: Callable[..., tuple[str, Any] | None]) -> str:
    """ssh://[user@]host[:port] from ansible_host, ansible_user and ansible_port."""
    host = value("ansible_host", "ansible_ssh_host")
    user = value("ansible_user", "ansible_ssh_user")
    port = value("ansible_port", "ansible_ssh_port")
    address = str(host[1]) if host else name
    if ":" in address:  # an IPv6 address
        address = f"[{address.strip('[]')}]"
    if port:
        try:
            address += f":{int(port[1])}"
        except ValueError:
            raise InventoryError(f"{where}: {port[0]}: {port[1]!r} is not a port number") from None
    return f"ssh://{user[1]}@{address}" if user else f"ssh://{address}"


def scalar(where: str, var: str, raw: Any) -> Any:
    """A variable's value as one plain value; what only a playbook run can know is refused by name."""
    if isinstance(raw, dict) and "__ansible_vault" in raw:
        raise InventoryError(f"{where}: {var} is vault-encrypted; give it in plain text, or as migdoctor_* in TOML")
    if isinstance(raw, (dict, list)):
        raise InventoryError(f"{where}: {var} is a {type(raw).__name__}, not a single value")
    if isinstance(raw, str) and ("{{" in raw or "{%" in raw):
        raise InventoryError(f"{where}: {var} = {raw!r} is a Jinja2 template, which only a playbook run evaluates")
    return raw


def boolean(where: str, var: str, raw: Any) -> bool:
    """Ansible's reading of a boolean: true/false, yes/no, on/off, 1/0 (INI gives them as text)."""
    word = str(raw).strip().lower()
    if word in TRUE | FALSE:
        return word in TRUE
    raise InventoryError(f"{where}: {var} = {raw!r} is not a boolean (true/false, yes/no, on/off, 1/0)")
