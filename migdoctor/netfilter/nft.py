"""Evaluates an nftables ruleset (the parsed output of `nft -j list ruleset`)."""

from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property, partial
from typing import Any

from migdoctor.netfilter import nft_text
from migdoctor.netfilter.engine import Chain, Chains, Firewall, Rule, Unsupported
from migdoctor.netfilter.model import Decision, Packet
from migdoctor.netfilter.nft_expr import compile_statement
from migdoctor.netfilter.ranges import bounds_of

HOOKS = ("prerouting", "input")  # the hooks a packet for this host passes, in this order
PATH_FAMILIES = {"ip": ("ip", "inet"), "ip6": ("ip6", "inet")}  # table families it meets
EVALUATED_FAMILIES = frozenset({"ip", "ip6", "inet"})
NOTED_FAMILIES = ("netdev", "bridge")  # they see the packet too, but are not evaluated

Objects = dict[str, list[dict[str, Any]]]  # ruleset objects by kind ("table", "chain", ...)


# Expressions that compute on a value before comparing it: on a port, its decision may then
# change anywhere, not only at the numbers the rules name (tcp flags & ... is common and harmless).
COMPUTED = frozenset({"&", "|", "^", "<<", ">>"})
HASHED = frozenset({"jhash", "symhash", "numgen"})


@dataclass(frozen=True)
class Evaluator:
    """The compiled ruleset, one firewall per address family."""

    firewalls: dict[str, Firewall]
    port_bounds: frozenset[int] | None  # see migdoctor.netfilter.ranges
    judged: dict[tuple[object, ...], object] = field(default_factory=dict, compare=False, repr=False)  # ranges.py's

    def __call__(self, packet: Packet) -> Decision:
        return self.firewalls[packet.family](packet)

    @cached_property
    def reads(self) -> frozenset[str]:
        """What any family's firewall reads (ranges.py asks once per pair of a fleet)."""
        return frozenset().union(*(firewall.reads for firewall in self.firewalls.values()))


def nft_evaluator(ruleset: dict[str, Any]) -> Callable[[Packet], Decision]:
    """Compile once, evaluate many packets (a port range, say)."""
    objects = _objects(ruleset)
    tables = _compile_tables(objects)
    firewalls = {family: _firewall(objects, tables, family) for family in PATH_FAMILIES}
    return Evaluator(firewalls, port_bounds(objects))


def reads_port(expression: Any) -> bool:
    """Whether EXPRESSION reads a port: the dport field, or raw transport header bytes."""
    if isinstance(expression, list):
        return any(reads_port(item) for item in expression)
    if not isinstance(expression, dict):
        return False
    payload = expression.get("payload")
    if isinstance(payload, dict) and (payload.get("field") in ("dport", "sport") or "base" in payload):
        return True
    return any(reads_port(item) for item in expression.values())


def port_bounds(objects: Objects) -> frozenset[int] | None:
    """Every number in the rules, sets and maps (ports among them), or None when a rule computes
    on a port or hashes."""
    numbers: list[int] = []
    pending: list[Any] = [objects[kind] for kind in ("rule", "set", "map")]
    while pending:
        value = pending.pop()
        if isinstance(value, dict):
            if not HASHED.isdisjoint(value) or any(reads_port(value[key]) for key in COMPUTED.intersection(value)):
                return None
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)
        elif isinstance(value, int) and not isinstance(value, bool):
            numbers.append(value)
        elif isinstance(value, str) and value.isdigit():
            numbers.append(int(value))
    return bounds_of(numbers)


def evaluate_nft(ruleset: dict[str, Any], packet: Packet) -> Decision:
    """Would this host's nftables ruleset accept the packet?"""
    return nft_evaluator(ruleset)(packet)


def _objects(ruleset: dict[str, Any]) -> Objects:
    items = ruleset.get("nftables") if isinstance(ruleset, dict) else None
    if not isinstance(items, list):
        raise ValueError("not `nft -j list ruleset` output: no 'nftables' list")
    objects: Objects = defaultdict(list)
    for item in items:
        for kind, body in item.items():
            objects[kind].append(body)
    return objects


def _as_list(value: Any) -> list[Any]:
    """Flags and set elements come as one value or a list of them."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _compile_tables(objects: Objects) -> dict[tuple[str, str], dict[str, Chain]]:
    """Every chain of every ip, ip6 and inet table, by (family, table) and then by name."""
    elements = {
        (body["family"], body["table"], body["name"]): _as_list(body.get("elem"))
        for body in objects["set"] + objects["map"]
    }
    rules = defaultdict(list)
    for body in objects["rule"]:
        rules[(body["family"], body["table"], body["chain"])].append(body)
    tables: dict[tuple[str, str], dict[str, Chain]] = defaultdict(dict)
    for chain in objects["chain"]:
        family, table, name = chain["family"], chain["table"], chain["name"]
        if family not in EVALUATED_FAMILIES:
            continue
        label = f"{family} {table} {name}"
        lookup = partial(_named, elements, family, table)
        compiled = tuple(_rule(label, body, lookup) for body in rules[(family, table, name)])
        tables[(family, table)][name] = Chain(label, compiled, chain.get("policy", "accept"))
    return tables


def _named(elements: dict[tuple[str, str, str], list[Any]], family: str, table: str, name: str) -> list[Any]:
    try:
        return elements[(family, table, name)]
    except KeyError:
        raise Unsupported(f"set '@{name}' is missing from the ruleset") from None


def _rule(label: str, body: dict[str, Any], lookup: Callable[[str], list[Any]]) -> Rule:
    compiled = (compile_statement(stmt, lookup) for stmt in body.get("expr", []))
    return Rule(
        ref=f"handle {body.get('handle')} of chain {label}",
        text=nft_text.rule(label, body),
        steps=tuple(step for step in compiled if step is not None),
    )


def _firewall(objects: Objects, tables: Mapping[tuple[str, str], Chains], family: str) -> Firewall:
    """The base chains a packet of this family passes on its way to a local socket, in order."""
    dormant = {(body["family"], body["name"]) for body in objects["table"] if "dormant" in _as_list(body.get("flags"))}
    path, notes = [], []
    for position, chain in enumerate(objects["chain"]):
        where, hook = (chain["family"], chain["table"]), chain.get("hook")
        label = f"{chain['family']} {chain['table']} {chain['name']}"
        if hook is None or where in dormant:
            continue
        if chain["family"] in NOTED_FAMILIES:
            notes.append(f"{label} ({chain['family']} family)")
        elif chain["family"] not in PATH_FAMILIES[family]:
            continue
        elif hook == "ingress":
            notes.append(f"{label} (ingress hook)")
        elif hook not in HOOKS:
            continue
        elif chain.get("type", "filter") != "filter":
            notes.append(f"{label} ({chain['type']} chain)")
        else:
            order = (HOOKS.index(hook), chain.get("prio", 0), position)
            path.append((order, tables[where][chain["name"]], tables[where]))
    path.sort(key=lambda entry: entry[0])
    return Firewall(
        path=tuple((chain, chains) for _, chain, chains in path),
        empty_reason=f"no nftables base chain filters {family} packets to this host",
        notes=tuple(notes),
    )
