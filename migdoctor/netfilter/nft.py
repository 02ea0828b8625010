"""Evaluates an nftables ruleset (the parsed output of `nft -j list ruleset`)."""

from collections import defaultdict
from collections.abc import Callable, Collection, Mapping
from functools import partial
from typing import Any

from migdoctor.netfilter import nft_text
from migdoctor.netfilter.engine import (
    FAMILIES,
    HOOKS,
    Chain,
    Chains,
    Evaluator,
    Firewall,
    Hooked,
    Rule,
    Unsupported,
    on_path,
)
from migdoctor.netfilter.iptables import Table, table_chains
from migdoctor.netfilter.model import Base, Decision, Packet
from migdoctor.netfilter.nft_expr import compile_statement
from migdoctor.netfilter.ranges import bounds_of

PATH_FAMILIES = {"ip": ("ip", "inet"), "ip6": ("ip6", "inet")}  # table families a packet meets
EVALUATED_FAMILIES = frozenset({"ip", "ip6", "inet"})
NOTED_FAMILIES = ("netdev", "bridge")  # they see the packet too, but are not evaluated
EVALUATED_TYPES = ("filter", "nat")  # a nat chain can drop too, and its dnat is a doubt
IPTABLES_TOOL = {"ip": "iptables", "ip6": "ip6tables"}

Objects = dict[str, list[dict[str, Any]]]  # ruleset objects by kind ("table", "chain", ...)
Saves = Mapping[str, Mapping[str, Table]]  # iptables-nft-save's tables, by family and table name


# Expressions that compute on a value before comparing it: on a port, its decision may then
# change anywhere, not only at the numbers the rules name (tcp flags & ... is common and harmless).
COMPUTED = frozenset({"&", "|", "^", "<<", ">>"})
HASHED = frozenset({"jhash", "symhash", "numgen"})


def nft_evaluator(ruleset: dict[str, Any]) -> Callable[[Packet], Decision]:
    """Compile once, evaluate many packets (a port range, say)."""
    compiled = NftRuleset(ruleset)
    firewalls = {
        family: Firewall(on_path(compiled.hooked(family)), compiled.empty_reason(family), compiled.notes(family))
        for family in FAMILIES
    }
    return Evaluator(firewalls, port_bounds(compiled.objects))


def evaluate_nft(ruleset: dict[str, Any], packet: Packet) -> Decision:
    """Would this host's nftables ruleset accept the packet?"""
    return nft_evaluator(ruleset)(packet)


class NftRuleset:
    """A ruleset's base chains, compiled. The tables iptables-nft manages are read from SAVES
    (iptables-nft-save) where their JSON holds xt expressions nft cannot show."""

    def __init__(self, ruleset: dict[str, Any], saves: Saves | None = None) -> None:
        self.objects = _objects(ruleset)
        self.from_saves: set[tuple[str, str]] = set()
        self.tables = self._compile_tables(saves or {})

    @staticmethod
    def empty_reason(family: str) -> str:
        return f"no nftables base chain filters {family} packets to this host"

    def _compile_tables(self, saves: Saves) -> dict[tuple[str, str], Chains]:
        """Every chain of every ip, ip6 and inet table, by (family, table) and then by name."""
        objects = self.objects
        elements = {
            (body["family"], body["table"], body["name"]): _as_list(body.get("elem"))
            for body in objects["set"] + objects["map"]
        }
        rules = defaultdict(list)
        opaque = set()
        for body in objects["rule"]:
            rules[(body["family"], body["table"], body["chain"])].append(body)
            if any("xt" in stmt for stmt in body.get("expr", [])):
                opaque.add((body["family"], body["table"]))
        tables: dict[tuple[str, str], Chains] = {}
        for family, table in opaque:
            saved = saves.get(family, {}).get(table)
            if saved is not None:
                tables[(family, table)] = table_chains(saved, f"{family} {table}", table)
                self.from_saves.add((family, table))
        compiled: dict[tuple[str, str], dict[str, Chain]] = defaultdict(dict)
        for chain in objects["chain"]:
            family, table, name = chain["family"], chain["table"], chain["name"]
            if family not in EVALUATED_FAMILIES or (family, table) in self.from_saves:
                continue
            label = f"{family} {table} {name}"
            lookup = partial(_named, elements, family, table)
            rules_of = tuple(_rule(label, body, lookup) for body in rules[(family, table, name)])
            compiled[(family, table)][name] = Chain(label, rules_of, chain.get("policy", "accept"))
        return {**compiled, **tables}

    def _path_entries(self, family: str) -> list[tuple[dict[str, Any], str | None]]:
        """Each hooked chain a packet of FAMILY meets, with why it is only noted (None: evaluated)."""
        dormant = {
            (body["family"], body["name"]) for body in self.objects["table"] if "dormant" in _as_list(body.get("flags"))
        }
        entries: list[tuple[dict[str, Any], str | None]] = []
        for chain in self.objects["chain"]:
            hook = chain.get("hook")
            if hook is None or (chain["family"], chain["table"]) in dormant:
                continue
            if chain["family"] in NOTED_FAMILIES:
                entries.append((chain, f"{chain['family']} family"))
            elif chain["family"] not in PATH_FAMILIES[family] or hook not in (*HOOKS, "ingress"):
                continue
            elif hook == "ingress":
                entries.append((chain, "ingress hook"))
            elif chain.get("type", "filter") not in EVALUATED_TYPES:
                entries.append((chain, f"{chain['type']} chain"))
            else:
                entries.append((chain, None))
        return entries

    def notes(self, family: str) -> tuple[str, ...]:
        """The chains a packet of FAMILY passes that are deliberately not evaluated."""
        return tuple(
            f"{chain['family']} {chain['table']} {chain['name']} ({why})"
            for chain, why in self._path_entries(family)
            if why is not None
        )

    def hooked(self, family: str) -> list[Hooked]:
        """The base chains a packet of FAMILY passes on its way to a local socket."""
        hooked = []
        for chain, why in self._path_entries(family):
            where = (chain["family"], chain["table"])
            compiled = self.tables.get(where, {}).get(chain["name"])
            if why is not None or compiled is None:  # noted, or a base chain iptables-nft-save did not list
                continue
            if where in self.from_saves:
                base = Base(IPTABLES_TOOL.get(chain["family"], "iptables"), chain["table"], chain["name"])
            else:
                base = Base("nft", f"{chain['family']} {chain['table']}", chain["name"])
            based = Chain(compiled.label, compiled.rules, compiled.policy, base)
            hooked.append(Hooked(chain["hook"], _priority(chain.get("prio")), based, self.tables[where]))
        return hooked


def _priority(prio: Any) -> int:
    return prio if isinstance(prio, int) and not isinstance(prio, bool) else 0


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


def port_bounds(objects: Objects, skipped: Collection[tuple[str, str]] = ()) -> frozenset[int] | None:
    """Every number in the rules, sets and maps (ports among them) of the tables not SKIPPED (those
    read from iptables-nft-save, whose text gives their numbers), or None when a rule computes on a
    port or hashes."""
    numbers: list[int] = []
    pending: list[Any] = [
        [body for body in objects[kind] if (body.get("family"), body.get("table")) not in skipped]
        for kind in ("rule", "set", "map")
    ]
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
