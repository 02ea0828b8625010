"""Evaluates `iptables-save` (or `ip6tables-save`) output.

Only the filter table decides here. Other tables' PREROUTING and INPUT rules mostly mark or
translate packets; the decision names them as not evaluated rather than guess.
"""

import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass, field
from ipaddress import ip_address, ip_network

from migdoctor.netfilter.engine import (
    Chain,
    Doubt,
    Firewall,
    Rule,
    Step,
    StepResult,
    Unsupported,
    Verdict,
    constant,
    fields_read,
    reading,
)
from migdoctor.netfilter.model import Decision, Packet
from migdoctor.netfilter.ranges import bounds_of

VERDICTS = {"ACCEPT": "accept", "DROP": "drop", "REJECT": "reject", "RETURN": "return"}
LOG_TARGETS = frozenset({"LOG", "NFLOG"})  # they only log; the next rule still runs
MODULES = frozenset({"tcp", "udp", "multiport", "conntrack", "state", "comment", "addrtype"})
TCP_FLAGS = frozenset({"FIN", "SYN", "RST", "PSH", "ACK", "URG"})
PACKET_FLAGS = frozenset({"SYN"})
INPUT_PATH = ("PREROUTING", "INPUT")

Option = tuple[bool, str, list[str]]  # negated, option, its arguments


@dataclass
class _Table:
    policies: dict[str, str] = field(default_factory=dict)  # "-" for user chains
    rules: dict[str, list[str]] = field(default_factory=dict)  # arguments after "-A CHAIN"


def iptables_evaluator(save_text: str) -> Callable[[Packet], Decision]:
    """Compile once, evaluate many packets (a port range, say)."""
    tables = _parse(save_text)
    notes = tuple(
        f"{name} table"
        for name, table in tables.items()
        if name != "filter" and any(table.rules.get(chain) for chain in INPUT_PATH)
    )
    table = tables.get("filter")
    if table is None or "INPUT" not in table.rules:
        return Firewall((), "the iptables-save output has no filter INPUT chain", notes)
    chains = {name: _chain(name, table) for name in table.rules}
    numbers = (int(text) for text in re.findall(r"\d+", save_text))  # ports are written in digits
    return Firewall(((chains["INPUT"], chains),), "", notes, None if "u32" in save_text else bounds_of(numbers))


def evaluate_iptables(save_text: str, packet: Packet) -> Decision:
    """Would this host's iptables filter table accept the packet?"""
    return iptables_evaluator(save_text)(packet)


def _parse(save_text: str) -> dict[str, _Table]:
    tables: dict[str, _Table] = {}
    current: _Table | None = None
    for number, raw in enumerate(save_text.splitlines(), 1):
        line = raw.strip()
        if line.startswith("["):  # packet and byte counters of `iptables-save -c`
            line = line.partition("]")[2].strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("*"):
            current = tables.setdefault(line[1:], _Table())
        elif line == "COMMIT":
            current = None
        elif current is not None and line.startswith(":"):
            name, policy = line[1:].split()[:2]
            current.policies[name] = policy
            current.rules.setdefault(name, [])
        elif current is not None and line.startswith("-A "):
            name, _, arguments = line[3:].partition(" ")
            current.rules.setdefault(name, []).append(arguments)
        else:
            raise ValueError(f"line {number} is not iptables-save output: {raw!r}")
    return tables


def _chain(name: str, table: _Table) -> Chain:
    label = f"filter {name}"
    rules = tuple(
        Rule(
            ref=f"{number} of chain {label}",
            text=f"{label} rule {number}: -A {name} {arguments}",
            steps=_steps(arguments, table.rules),
        )
        for number, arguments in enumerate(table.rules[name], 1)
    )
    return Chain(label, rules, table.policies.get(name, "ACCEPT").lower())


def _options(tokens: list[str]) -> list[Option]:
    """Groups tokens into options and their arguments; iptables-save puts "!" before an option."""
    options: list[Option] = []
    negated, index = False, 0
    while index < len(tokens):
        option = tokens[index]
        index += 1
        if option == "!":
            negated = True
            continue
        end = index + 1 if option == "--comment" else index  # free text, may start with "-"
        while end < len(tokens) and tokens[end] != "!" and not tokens[end].startswith("-"):
            end += 1
        options.append((negated, option, tokens[index:end]))
        negated, index = False, end
    return options


def _steps(arguments: str, chains: dict[str, list[str]]) -> tuple[Step, ...]:
    steps: list[Step] = []
    module: str | None = None
    for negated, option, values in _options(shlex.split(arguments)):
        if option == "-m":
            module = values[0] if values else ""
            if module not in MODULES:
                steps.append(constant(Doubt(f"match '-m {module}' not understood")))
        elif option in ("-j", "-g"):
            steps.extend(_target(option, values[0] if values else "", chains))
            break
        elif module is None or module in MODULES or not option.startswith("--"):
            try:
                step = _match(option, values)
            except (Unsupported, ValueError, IndexError):
                step = constant(Doubt(f"option '{' '.join([option, *values])}' not understood"))
            steps.append(_negated(step) if negated else step)
        # else: an option of a match module already doubted above
    return tuple(steps)


def _target(option: str, target: str, chains: dict[str, list[str]]) -> list[Step]:
    if option == "-g":
        return [constant(Verdict("goto", target))]
    if target in chains:
        return [constant(Verdict("jump", target))]
    if target in VERDICTS:
        return [constant(Verdict(VERDICTS[target]))]
    if target in LOG_TARGETS:
        return []
    return [constant(Doubt(f"target '{target}' not understood", effect=True))]


def _match(option: str, values: list[str]) -> Step:
    """One match option, judged for a new TCP connection (a SYN) to this host."""
    if option == "-i":
        pattern = values[0]
        if pattern.endswith("+"):
            return reading({"iifname"}, lambda p: p.iifname.startswith(pattern[:-1]))
        return reading({"iifname"}, lambda p: p.iifname == pattern)
    if option in ("-s", "-d"):
        networks = [ip_network(value, strict=False) for value in values[0].split(",")]
        name = "saddr" if option == "-s" else "daddr"
        return reading({name}, lambda p: any(ip_address(getattr(p, name)) in network for network in networks))
    if option == "-p":
        return constant(values[0].lower() in ("tcp", "6", "all", "0"))
    if option == "-f":
        return constant(False)
    if option in ("--dport", "--dports"):
        spans = [_port_span(value) for value in values[0].split(",")]
        return reading({"dport"}, lambda p: any(low <= p.dport <= high for low, high in spans))
    if option == "--tcp-flags":
        mask, expected = (_tcp_flags(value) for value in values[:2])
        return constant(PACKET_FLAGS & mask == expected)
    if option in ("--ctstate", "--state"):
        return constant("NEW" in values[0].split(","))
    if option == "--dst-type":  # the packet is addressed to this host
        return constant("LOCAL" in values[0].split(","))
    if option == "--comment":
        return constant(True)
    raise Unsupported(option)


def _port_span(text: str) -> tuple[int, int]:
    """An iptables port spec ("22", "49152:49215", ":1023", "1024:") as an inclusive range."""
    low, colon, high = text.partition(":")
    if not colon:
        return int(text), int(text)
    return int(low or 0), int(high or 65535)


def _tcp_flags(text: str) -> frozenset[str]:
    named = {"ALL": TCP_FLAGS, "NONE": frozenset()}
    return frozenset().union(*(named.get(flag, {flag}) for flag in text.split(",")))


def _negated(step: Step) -> Step:
    def negated(packet: Packet) -> StepResult:
        result = step(packet)
        return not result if isinstance(result, bool) else result

    return reading(fields_read([step]), negated)
