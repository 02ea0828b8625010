"""Compiles nftables JSON statements into steps judged against one packet: a new TCP connection
(a SYN) to this host.

Whatever cannot be known to hold or not for that packet becomes a Doubt, never a silent skip.
"""

from collections.abc import Callable
from dataclasses import dataclass
from ipaddress import ip_network
from operator import ge, gt, le, lt
from typing import Any

from migdoctor.netfilter import nft_text
from migdoctor.netfilter.engine import NEXT, UNKNOWN_RETURN_ROUTE, Doubt, Step, Unsupported, Verdict, constant, reading
from migdoctor.netfilter.model import Packet

Value = int | str | frozenset[str] | Doubt
Test = Callable[[Any], bool]
SetLookup = Callable[[str], list[Any]]  # a named set's or map's elements, by name

NOOPS = frozenset({"counter", "log"})
GUARDS = frozenset({"limit", "quota", "ct count"})  # pass some packets and not others
ORDER = {"<": lt, "<=": le, ">": gt, ">=": ge}
# a TCP packet has none of these headers, so any match on them fails (nft adds the dependency)
OTHER_L4 = frozenset({"udp", "udplite", "sctp", "dccp", "icmp", "icmpv6", "igmp", "esp", "ah", "comp", "gre"})


@dataclass(frozen=True)
class Field:
    """A packet field on a rule's left-hand side.

    read returns None when the packet lacks the header (an ip6 packet under `ip saddr`): nft's
    implicit protocol dependency then fails the match whatever the operator; a Doubt when the
    question is not answered (the route back to the source).
    """

    kind: str  # port | addr | name | symbol | flags | absent
    read: Callable[[Packet], Value | None]
    reads: frozenset[str] = frozenset()  # the Packet fields read uses


def _address(family: str, name: str) -> Field:
    return Field("addr", lambda p: p.address(name) if p.family == family else None, frozenset({name, "family"}))


def _only(family: str, value: str) -> Field:
    return Field("symbol", lambda p: value if p.family == family else None, frozenset({"family"}))


INTERFACE = Field("name", lambda p: p.iifname, frozenset({"iifname"}))
RETURN_ROUTE = Field(
    "symbol",
    lambda p: UNKNOWN_RETURN_ROUTE if p.return_route is None else p.return_route,
    frozenset({"return_route"}),  # the answer for this packet's saddr and iifname
)
DPORT = Field("port", lambda p: p.dport, frozenset({"dport"}))
ABSENT = Field("absent", lambda _p: None)
FIELDS = {  # keyed by rendering, which is how nft itself tells these expressions apart
    "iifname": INTERFACE,
    "iif": INTERFACE,
    "meta l4proto": Field("symbol", lambda _p: "tcp"),
    "meta nfproto": Field("symbol", lambda p: "ipv4" if p.family == "ip" else "ipv6", frozenset({"family"})),
    "meta protocol": Field("symbol", lambda p: p.family, frozenset({"family"})),
    "meta pkttype": Field("symbol", lambda _p: "host"),
    "ct state": Field("flags", lambda _p: frozenset({"new"})),
    # a new connection's status bits: none (a dnat rule that would set "dnat" is itself a doubt)
    "ct status": Field("flags", lambda _p: frozenset()),
    "tcp flags": Field("flags", lambda _p: frozenset({"syn"})),
    "tcp dport": DPORT,
    "th dport": DPORT,
    "ip saddr": _address("ip", "saddr"),
    "ip daddr": _address("ip", "daddr"),
    "ip6 saddr": _address("ip6", "saddr"),
    "ip6 daddr": _address("ip6", "daddr"),
    "ip protocol": _only("ip", "tcp"),
    "ip6 nexthdr": _only("ip6", "tcp"),
    "fib daddr type": Field("symbol", lambda _p: "local"),  # the packet is addressed to this host
    # reverse-path filters (firewalld's IPv6 rpfilter): is there a route back to saddr by iif
    "fib saddr . iif oif": RETURN_ROUTE,
    "fib saddr . mark . iif oif": RETURN_ROUTE,
}


def _field(expr: Any) -> Field:
    if isinstance(expr, dict) and expr.get("payload", {}).get("protocol") in OTHER_L4:
        return ABSENT
    if isinstance(expr, dict) and "&" in expr and _field(expr["&"][0]).kind == "flags":
        return _masked(_field(expr["&"][0]), _flag_set(expr["&"][1]))
    field = FIELDS.get(nft_text.expression(expr))
    if field is None:
        raise Unsupported(f"expression '{nft_text.expression(expr)}' not understood")
    return field


def _masked(base: Field, mask: frozenset[str]) -> Field:
    """`tcp flags & (fin | syn | rst | ack)`: only the masked flags are compared."""

    def read(packet: Packet) -> Value | None:
        value = base.read(packet)
        return value & mask if isinstance(value, frozenset) else None

    return Field("flags", read, base.reads)


def _flag_set(value: Any) -> frozenset[str]:
    if isinstance(value, str):
        return frozenset({value})
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return frozenset(value)
    raise Unsupported(f"flags '{nft_text.expression(value)}' not understood")


def _unwrap(item: Any) -> Any:
    """A set element given as {"elem": {"val": ...}} (it has a comment or timeout) is its val."""
    return item["elem"]["val"] if isinstance(item, dict) and "elem" in item else item


def _elements(right: Any, lookup: SetLookup) -> list[Any]:
    if isinstance(right, dict) and "set" in right:
        items = right["set"] if isinstance(right["set"], list) else [right["set"]]
    elif isinstance(right, str) and right.startswith("@"):
        items = lookup(right[1:])
    else:
        items = [right]
    return [_unwrap(item) for item in items]


def _span(kind: str, element: Any) -> tuple[int, int]:
    """The inclusive integer interval a port or address element covers."""
    if isinstance(element, dict) and "range" in element:
        low, high = element["range"]
        return _span(kind, low)[0], _span(kind, high)[1]
    if kind == "port" and isinstance(element, int) and not isinstance(element, bool):
        return element, element
    if kind == "addr" and isinstance(element, dict) and "prefix" in element:
        element = f"{element['prefix']['addr']}/{element['prefix']['len']}"
    if kind == "addr" and isinstance(element, str):
        try:
            network = ip_network(element, strict=False)
        except ValueError:
            raise Unsupported(f"address '{element}' not understood") from None
        return int(network.network_address), int(network.broadcast_address)
    raise Unsupported(f"{kind} value '{nft_text.expression(element)}' not understood")


def _test(kind: str, element: Any, op: str) -> Test:
    """Whether a packet value equals (for flags under `in`: overlaps) one right-hand element."""
    if kind in ("port", "addr"):
        low, high = _span(kind, element)
        return lambda value: low <= value <= high
    if kind == "flags":
        flags = _flag_set(element)
        return (lambda value: bool(value & flags)) if op == "in" else (lambda v: v == flags)
    if kind == "name" and isinstance(element, str):
        return _interface(element)
    if kind == "symbol" and isinstance(element, str | int):
        return lambda value: value == element
    raise Unsupported(f"value '{nft_text.expression(element)}' not understood")


def _interface(pattern: str) -> Test:
    """nft's interface wildcard: a trailing "*" matches any suffix, "\\*" is a literal star."""
    if pattern.endswith("\\*"):
        literal = pattern[:-2] + "*"
        return lambda name: name == literal
    if pattern.endswith("*"):
        prefix = pattern[:-1]
        return lambda name: name.startswith(prefix)
    return lambda name: name == pattern


def _match(body: dict[str, Any], lookup: SetLookup) -> Step:
    field = _field(body["left"])
    if field is ABSENT:
        return constant(False)
    op, right = body["op"], body["right"]
    if op in ORDER and field.kind == "port" and isinstance(right, int):
        compare = ORDER[op]
        tests: list[Test] = [lambda value: compare(value, right)]
    elif op in ("==", "!=", "in"):
        tests = [_test(field.kind, element, op) for element in _elements(right, lookup)]
    else:
        raise Unsupported(f"operator '{op}' on '{nft_text.expression(body['left'])}' not understood")
    negate, read = op == "!=", field.read

    def step(packet: Packet) -> bool | Doubt:
        value = read(packet)
        if isinstance(value, Doubt):
            return value
        return value is not None and any(test(value) for test in tests) != negate

    return reading(field.reads, step)


def _verdict(stmt: dict[str, Any]) -> Verdict:
    ((key, body),) = stmt.items()
    if key in ("accept", "drop", "reject", "return"):
        return Verdict(key)
    if key == "continue":
        return NEXT
    if key in ("jump", "goto"):
        return Verdict(key, body["target"])
    if key in ("dnat", "redirect", "tproxy"):
        raise Unsupported(f"{key} may send the connection elsewhere")
    if key == "xt":
        name = body.get("name") if isinstance(body, dict) else None
        raise Unsupported(
            f"iptables-nft extension '{name}' is opaque in nft JSON, and no iptables-nft-save output of its table "
            "was collected"
        )
    raise Unsupported(f"statement '{nft_text.statement(stmt)}' not understood")


def _vmap(body: dict[str, Any], lookup: SetLookup) -> Step:
    field = _field(body["key"])
    if field is ABSENT:
        return constant(False)
    entries = []
    for pair in _elements(body["data"], lookup):
        if not (isinstance(pair, list) and len(pair) == 2):
            raise Unsupported(f"verdict map entry '{nft_text.expression(pair)}' not understood")
        entries.append((_test(field.kind, _unwrap(pair[0]), "=="), _verdict(pair[1])))

    def step(packet: Packet) -> bool | Verdict | Doubt:
        value = field.read(packet)
        if value is None or isinstance(value, Doubt):
            return value or False
        return next((verdict for test, verdict in entries if test(value)), False)

    return reading(field.reads, step)


def _only_filters(key: str, body: Any) -> bool:
    """Whether a statement can only stop the rule, never change the packet or the verdict."""
    xt_match = key == "xt" and isinstance(body, dict) and body.get("type") == "match"
    return key == "match" or key in GUARDS or xt_match


def compile_statement(stmt: dict[str, Any], lookup: SetLookup) -> Step | None:
    """The step for one statement of a rule's expr list; None for statements without effect."""
    ((key, body),) = stmt.items()
    if key in NOOPS:
        return None
    try:
        if key == "match":
            return _match(body, lookup)
        if key == "vmap":
            return _vmap(body, lookup)
        return constant(_verdict(stmt))
    except Unsupported as exc:
        return constant(Doubt(str(exc), effect=not _only_filters(key, body)))
