"""Inventories that never end, read by the real ansible-inventory and by tomllib: an alias bomb, a
script that eats memory, an answer too large, wrongly typed or nested past any use. Each is refused
in one line naming the file, within ansible-inventory's time and memory."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from migdoctor.transports import ansible_inventory as ansible
from migdoctor.transports.inventory import InventoryError, load_inventory, parse_inventory

# Nine aliases of nine aliases, nine levels deep: 9^10 strings once Ansible expands them.
ALIAS_BOMB = (
    "all:\n  hosts:\n    kvm1:\n      ansible_host: 192.0.2.1\n  vars:\n"
    '    l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]\n'
    + "".join(f"    l{level}: &l{level} [{', '.join([f'*l{level - 1}'] * 9)}]\n" for level in range(1, 10))
)


def script(tmp_path: Path, body: str) -> str:
    path = tmp_path / "cloud.py"
    path.write_text(f"#!{sys.executable}\nimport json\n{body}")
    path.chmod(0o755)
    return str(path)


def test_an_alias_bomb_is_refused_when_its_time_is_up(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bomb = tmp_path / "hosts.yml"
    bomb.write_text(ALIAS_BOMB)
    monkeypatch.setattr(ansible, "TIMEOUT_S", 3.0)  # the real 25 s is measured, not waited for here

    with pytest.raises(InventoryError) as caught:
        load_inventory(str(bomb))

    assert caught.match(
        rf"^{bomb}: ansible-inventory gave no answer within 3 s: the inventory expands without bound "
        r"\(YAML aliases nested in aliases\?\), or a script it runs waits on something \(and it is not TOML: .*\)$"
    )


def test_an_alias_bomb_is_refused_when_it_outgrows_its_memory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bomb = tmp_path / "hosts.yml"
    bomb.write_text(ALIAS_BOMB)
    monkeypatch.setattr(ansible, "MEMORY_BYTES", 150 * 2**20)  # a few seconds' growth past its start
    monkeypatch.setattr(ansible, "TIMEOUT_S", 300.0)

    with pytest.raises(InventoryError) as caught:
        load_inventory(str(bomb))

    assert str(caught.value) == (
        f"{bomb}: ansible-inventory needed more than 150 MiB of memory: the inventory expands without bound "
        "(YAML aliases nested in aliases?)"
    )


def test_an_answer_past_the_input_limit_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    hosts = {f"kvm{number}": {"ansible_host": f"192.0.2.{number}"} for number in range(100)}
    many = script(
        tmp_path, f"print(json.dumps({{'kvm': {{'hosts': {list(hosts)}}}, '_meta': {{'hostvars': {hosts}}}}}))\n"
    )
    monkeypatch.setattr(ansible, "MAX_INPUT_BYTES", 4096)

    with pytest.raises(InventoryError, match=rf"^{many}: ansible-inventory's answer is larger than 0 MiB$"):
        load_inventory(many)


def test_a_host_variable_nested_past_any_use_is_refused(tmp_path: Path) -> None:
    deep = script(
        tmp_path,
        'print(json.dumps({"kvm": {"hosts": ["kvm1"]}, "_meta": {"hostvars": {"kvm1": {"x": '
        + "[" * 100
        + "]" * 100
        + "}}}}))\n",
    )

    with pytest.raises(InventoryError) as caught:
        load_inventory(deep)

    assert str(caught.value) == (
        f"{deep}: ansible-inventory printed no JSON inventory (nested deeper than 64 levels, not a migdoctor file)"
    )


@pytest.mark.parametrize(
    ("answer", "where"),
    [
        ({"_meta": {"hostvars": []}}, "_meta.hostvars: [] is not of type 'object'"),
        ({"_meta": {"hostvars": {"kvm1": "x"}}}, "_meta.hostvars.kvm1: 'x' is not of type 'object'"),
        ({"_meta": [1]}, "_meta: [1] is not of type 'object'"),
        ({"kvm": {"hosts": [["kvm1"]]}}, "kvm.hosts.0: ['kvm1'] is not of type 'string'"),
        ({"kvm": {"children": 5}}, "kvm.children: 5 is not of type 'array'"),
        ({"kvm": "kvm1"}, "kvm: 'kvm1' is not of type 'object'"),
    ],
)
def test_an_answer_of_the_wrong_shape_is_one_line(answer: dict[str, Any], where: str) -> None:
    with pytest.raises(InventoryError) as caught:
        ansible.checked_answer(answer, "cloud.py")

    assert str(caught.value) == f"cloud.py: not an inventory in ansible-inventory's answer: {where}"


def test_groups_nested_thousands_deep_and_shared_by_many_parents_are_flattened() -> None:
    chain = {f"g{level}": {"hosts": [f"kvm{level}"], "children": [f"g{level + 1}"]} for level in range(3000)}
    diamond = {f"d{level}": {"children": [f"l{level + 1}", f"r{level + 1}"]} for level in range(60)}
    diamond |= {f"{side}{level}": {"children": [f"d{level}"]} for level in range(1, 61) for side in "lr"}
    diamond["d60"] = {"hosts": ["kvm-last"]}

    groups = ansible.flatten_groups({**chain, **diamond, "_meta": {}})

    assert groups["g0"] == [f"kvm{level}" for level in range(3000)]
    assert groups["d0"] == ["kvm-last"]  # 2^60 paths to it, each group worked out once


@pytest.mark.parametrize(
    "text",
    [
        "[hosts.kvm1]\ntransport = 'local'\nssh_args = " + "[" * 1000 + "]" * 1000 + "\n",
        "[groups]\nrack = " + "{a = " * 1000 + "1" + "}" * 1000 + "\n",
        "[groups]\n" + ".".join(["x"] * 1000) + " = 1\n",
    ],
    ids=["array", "inline-table", "dotted-key"],
)
def test_a_toml_inventory_nested_a_thousand_deep_is_one_line(text: str) -> None:
    with pytest.raises(InventoryError) as caught:
        parse_inventory(text, "inv.toml")

    assert str(caught.value) == "inv.toml: nested deeper than 64 levels, not a migdoctor inventory"
