"""Evaluates `iptables-save` (or `ip6tables-save`) output.

Every table's chains on a packet's way to a local socket are walked, at the priority the kernel
gives them (raw, mangle, nat, filter, security): a DROP anywhere is final, a DNAT or a target
migdoctor does not know leaves the outcome unknown, marking and logging targets change nothing.
The same compiler reads the iptables-nft tables whose xt matches nft's JSON cannot show.
"""

import re
import shlex
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from ipaddress import ip_address, ip_network

from migdoctor.netfilter.engine import (
    UNKNOWN_RETURN_ROUTE,
    Chain,
    Chains,
    Doubt,
    Firewall,
    Hooked,
    Rule,
    Step,
    StepResult,
    Unsupported,
    Verdict,
    constant,
    fields_read,
    on_path,
    reading,
)
from migdoctor.netfilter.model import Base, Decision, Packet
from migdoctor.netfilter.ranges import bounds_of

VERDICTS = {"ACCEPT": "accept", "DROP": "drop", "REJECT": "reject", "RETURN": "return"}
# targets that let the next rule run and change nothing a later rule here judges (a rule that
# matches on a mark is itself doubted: -m mark is not understood)
PASSING_TARGETS = frozenset(
    {"LOG", "NFLOG", "ULOG", "TRACE", "AUDIT", "MARK", "CONNMARK", "CHECKSUM", "TCPMSS", "DSCP", "TOS", "CLASSIFY"}
)
MODULES = frozenset({"tcp", "udp", "multiport", "conntrack", "state", "comment", "addrtype", "rpfilter"})
ABSENT_MODULES = frozenset(
    {"rt", "frag", "hbh", "dst", "ah", "esp", "icmp", "icmp6", "sctp", "udplite"}
)  # headers a TCP SYN lacks
TCP_FLAGS = frozenset({"FIN", "SYN", "RST", "PSH", "ACK", "URG"})
PACKET_FLAGS = frozenset({"SYN"})
# (table, chain) -> (hook, priority): the built-in chains a packet to this host passes
HOOKED = {
    ("raw", "PREROUTING"): ("prerouting", -300),
    ("mangle", "PREROUTING"): ("prerouting", -150),
    ("nat", "PREROUTING"): ("prerouting", -100),
    ("mangle", "INPUT"): ("input", -150),
    ("filter", "INPUT"): ("input", 0),
    ("security", "INPUT"): ("input", 50),
}

Option = tuple[bool, str, list[str]]  # negated, option, its arguments


@dataclass
class Table:
    policies: dict[str, str] = field(default_factory=dict)  # "-" for user chains
    rules: dict[str, list[str]] = field(default_factory=dict)  # arguments after "-A CHAIN"


def iptables_evaluator(save_text: str, tool: str = "iptables") -> Callable[[Packet], Decision]:
    """Compile once, evaluate many packets (a port range, say) of the text's own family."""
    hooked = hooked_chains(parse_save(save_text), tool)
    return Firewall(on_path(hooked), "no iptables chain filters packets to this host", (), save_bounds(save_text))


def evaluate_iptables(save_text: str, packet: Packet) -> Decision:
    """Would this host's iptables tables accept the packet?"""
    return iptables_evaluator(save_text)(packet)


def save_bounds(save_text: str) -> frozenset[int] | None:
    """Where decisions can change: every number written (ports are in digits); anywhere with u32."""
    return None if "u32" in save_text else bounds_of(int(text) for text in re.findall(r"\d+", save_text))


def hooked_chains(tables: Mapping[str, Table], tool: str) -> list[Hooked]:
    """Every built-in chain a packet to this host passes, compiled, named as TOOL names it."""
    hooked = []
    for (name, chain), (hook, priority) in HOOKED.items():
        table = tables.get(name)
        if table is None or chain not in table.policies:
            continue
        chains = table_chains(table, f"{tool} {name}", name)
        base = Base(tool, name, chain)
        hooked.append(Hooked(hook, priority, _based(chains[chain], base), chains))
    return hooked


def _based(chain: Chain, base: Base) -> Chain:
    return Chain(chain.label, chain.rules, chain.policy, base)


def table_chains(table: Table, label: str, name: str) -> Chains:
    """Every chain of TABLE (NAME: filter, nat, ...), compiled; LABEL prefixes their names."""
    inert = _inert_chains(table)
    return {chain: _chain(chain, table, label, name, inert) for chain in table.rules}


def _inert_chains(table: Table) -> frozenset[str]:
    """User chains that can only log and return (ufw's logging chains): a jump to one, however
    doubtful its match, changes nothing."""
    inert: set[str] = set()
    changed = True
    while changed:
        changed = False
        for chain, rules in table.rules.items():
            if chain in inert or table.policies.get(chain, "-") != "-":
                continue
            targets = [_target_of(arguments) for arguments in rules]
            if all(t in PASSING_TARGETS or t == "RETURN" or t == "" or t in inert for t in targets):
                inert.add(chain)
                changed = True
    return frozenset(inert)


def _target_of(arguments: str) -> str:
    tokens = arguments.split()
    for option in ("-j", "-g"):
        if option in tokens[:-1]:
            return ("goto:" if option == "-g" else "") + tokens[tokens.index(option) + 1]
    return ""


def parse_save(save_text: str) -> dict[str, Table]:
    """The tables of iptables-save text by name; ValueError naming a line that is not."""
    tables: dict[str, Table] = {}
    current: Table | None = None
    for number, raw in enumerate(save_text.splitlines(), 1):
        line = raw.strip()
        if line.startswith("["):  # packet and byte counters of `iptables-save -c`
            line = line.partition("]")[2].strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("*"):
            current = tables.setdefault(line[1:], Table())
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


def _chain(name: str, table: Table, label: str, table_name: str, inert: frozenset[str]) -> Chain:
    label = f"{label} {name}"
    rules = tuple(
        Rule(
            ref=f"{number} of chain {label}",
            text=f"{label} rule {number}: -A {name} {arguments}",
            steps=_steps(arguments, table.rules, table_name, inert),
        )
        for number, arguments in enumerate(table.rules[name], 1)
    )
    policy = table.policies.get(name, "ACCEPT")
    return Chain(label, rules, "accept" if policy == "-" else policy.lower())


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


def _steps(arguments: str, chains: Mapping[str, list[str]], table: str, inert: frozenset[str]) -> tuple[Step, ...]:
    steps: list[Step] = []
    module: str | None = None
    rpfilter = 0  # where -m rpfilter's step is, for its --invert
    tokens = shlex.split(arguments) if '"' in arguments or "'" in arguments or "\\" in arguments else arguments.split()
    for negated, option, values in _options(tokens):
        if option == "-m":
            module = values[0] if values else ""
            if module in ABSENT_MODULES:
                steps.append(constant(False))
            elif module == "rpfilter":
                rpfilter = len(steps)
                steps.append(RETURN_ROUTE)
            elif module not in MODULES:
                steps.append(constant(Doubt(f"match '-m {module}' not understood")))
        elif option in ("-j", "-g"):
            steps.extend(_target(option, values[0] if values else "", chains, table, inert))
            break
        elif module == "rpfilter" and option == "--invert":
            steps[rpfilter] = _negated(steps[rpfilter])
        elif module == "rpfilter" and option == "--accept-local":
            continue  # the source is another host
        elif module is None or module in MODULES or not option.startswith("--"):
            try:
                step = _match(option, values)
            except (Unsupported, ValueError, IndexError):
                step = constant(Doubt(f"option '{' '.join([option, *values])}' not understood"))
            steps.append(_negated(step) if negated else step)
        # else: an option of a match module already judged above
    return tuple(steps)


def _target(option: str, target: str, chains: Mapping[str, list[str]], table: str, inert: frozenset[str]) -> list[Step]:
    if target in inert:
        return []
    if option == "-g":
        return [constant(Verdict("goto", target))]
    if target in chains:
        return [constant(Verdict("jump", target))]
    if target in VERDICTS:
        return [constant(Verdict(VERDICTS[target]))]
    if target in PASSING_TARGETS:
        return []
    if table == "nat" and target in ("DNAT", "REDIRECT"):
        return [constant(Doubt(f"{target} may send the connection elsewhere", effect=True))]
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


# -m rpfilter: the route back to the source leaves by the arriving link (the check's look-up says)
RETURN_ROUTE = reading({"return_route"}, lambda p: UNKNOWN_RETURN_ROUTE if p.return_route is None else p.return_route)


def _negated(step: Step) -> Step:
    def negated(packet: Packet) -> StepResult:
        result = step(packet)
        return not result if isinstance(result, bool) else result

    return reading(fields_read([step]), negated)
