"""Chain traversal shared by the nftables and iptables front ends.

Both front ends compile a firewall into the same small structures (rules made of steps, chains,
base chains in hook order), so jump/goto/return and "a drop in any base chain is final" are
written once.
"""

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property

from migdoctor.netfilter.model import Base, Decision, Packet

POLICIES = ("accept", "drop", "reject")  # the policies a base chain can have

MAX_JUMP_DEPTH = 16  # as deep as the kernel's own jump stack


@dataclass(frozen=True)
class Verdict:
    """What a rule tells the chain walker."""

    kind: str  # accept | drop | reject | jump | goto | return | next | unknown
    arg: str = ""  # target chain for jump/goto, reason for unknown


NEXT = Verdict("next")


@dataclass(frozen=True)
class Doubt:
    """A step the evaluator cannot judge.

    A doubtful match may or may not hold, so a later match that surely fails still settles the
    rule; a doubtful statement (effect=True) may change anything once reached.
    """

    reason: str
    effect: bool = False


# what a reverse-path filter asks of a packet whose Packet.return_route is None
UNKNOWN_RETURN_ROUTE = Doubt(
    "a reverse-path filter asks whether the route back to the source leaves by the link it arrived on, and no "
    "route look-up of the source's address was made on this host"
)

StepResult = bool | Verdict | Doubt
Step = Callable[[Packet], StepResult]


class Unsupported(Exception):
    """Raised while compiling something the evaluator does not judge; it becomes a Doubt."""


PACKET_FIELDS = frozenset({"saddr", "daddr", "iifname", "dport", "family", "return_route"})


def reading(fields: Iterable[str], step: Step) -> Step:
    """STEP marked with the packet fields it reads: a ruleset that reads no source address decides
    for every source alike, so a fleet's pairs into one host share each judgement."""
    setattr(step, "reads", frozenset(fields))  # noqa: B010 - an attribute mypy cannot see on a Callable
    return step


def fields_read(steps: Iterable[Step]) -> frozenset[str]:
    """The packet fields STEPS read; all of them once one step is not marked."""
    read: set[str] = set()
    for step in steps:
        marked = getattr(step, "reads", None)
        if marked is None:
            return PACKET_FIELDS
        read |= marked
    return frozenset(read)


def constant(result: StepResult) -> Step:
    """A step whose outcome does not depend on the packet."""
    return reading((), lambda _packet: result)


def judge(steps: Sequence[Step], packet: Packet) -> Verdict:
    """Run a rule's steps in order, as the kernel does: a failed match ends the rule."""
    doubt: Doubt | None = None
    for step in steps:
        out = step(packet)
        if out is True:
            continue
        if out is False:
            return NEXT
        if isinstance(out, Doubt):
            doubt = doubt or out
            if out.effect:
                return Verdict("unknown", doubt.reason)
            continue
        if doubt is not None and out.kind != "next":
            return Verdict("unknown", doubt.reason)
        return out
    return NEXT


@dataclass(frozen=True)
class Rule:
    ref: str  # "handle 7 of chain inet filter input", used in reasons
    text: str  # ref plus a short rendering, used as Decision.rule
    steps: tuple[Step, ...]


@dataclass(frozen=True)
class Chain:
    label: str  # "inet filter input"
    rules: tuple[Rule, ...]
    policy: str = "accept"  # meaningful for base chains only
    base: Base | None = None  # set on base chains


HOOKS = ("prerouting", "input")  # the hooks a packet for this host passes, in this order
FAMILIES = ("ip", "ip6")


@dataclass(frozen=True)
class Hooked:
    """A base chain on a packet's path, with what orders it there (hook, then priority)."""

    hook: str  # one of HOOKS
    priority: int
    chain: Chain
    chains: "Chains"


Chains = Mapping[str, Chain]  # jump targets by name, within one table


def _walk(chain: Chain, chains: Chains, packet: Packet, depth: int) -> Decision | None:
    """The decision reached in chain, or None when it returns to its caller."""
    for rule in chain.rules:
        verdict = judge(rule.steps, packet)
        kind = verdict.kind
        if kind == "next":
            continue
        if kind == "return":
            return None
        if kind == "unknown":
            return Decision("unknown", rule.text, verdict.arg)
        if kind not in ("jump", "goto"):
            return Decision(kind, rule.text, f"{kind} by rule {rule.ref}")
        target = chains.get(verdict.arg)
        if target is None:
            return Decision("unknown", rule.text, f"{kind} target chain '{verdict.arg}' is missing")
        if depth == MAX_JUMP_DEPTH:
            return Decision("unknown", rule.text, f"jumps nest deeper than {MAX_JUMP_DEPTH} chains")
        decision = _walk(target, chains, packet, depth + 1)
        if decision is not None or kind == "goto":
            return decision
    return None


@dataclass(frozen=True)
class Firewall:
    """A compiled firewall: the base chains a packet to this host passes, in order.

    Every base chain must accept. A drop or reject is final even after a chain whose outcome is
    unknown, since that chain could only have dropped the packet earlier.
    """

    path: tuple[tuple[Chain, Chains], ...]  # in hook order: see on_path
    empty_reason: str  # why nothing filters when path is empty
    notes: tuple[str, ...] = ()  # parts of the ruleset deliberately not evaluated
    port_bounds: frozenset[int] | None = None  # where decisions can change (ranges.bounds_of); None: anywhere
    judged: dict[tuple[object, ...], object] = field(default_factory=dict, compare=False, repr=False)  # ranges.py's

    @cached_property
    def reads(self) -> frozenset[str]:
        """The packet fields any rule this firewall can reach reads (the family picks the chains)."""
        steps = (
            step for _, chains in self.path for chain in chains.values() for rule in chain.rules for step in rule.steps
        )
        return fields_read(steps) | {"family"}

    def __call__(self, packet: Packet) -> Decision:
        doubt: Decision | None = None
        accepted: Decision | None = None
        for chain, chains in self.path:
            decision = _walk(chain, chains, packet, 0) or Decision(
                chain.policy if chain.policy in POLICIES else "unknown",
                None,
                f"policy {chain.policy} of chain {chain.label}"
                + ("" if chain.policy in POLICIES else ": a policy migdoctor does not understand"),
            )
            decision = replace(decision, base=chain.base)
            if decision.verdict in ("drop", "reject"):
                return self._noted(decision)
            if decision.verdict == "unknown":
                doubt = doubt or decision
            elif accepted is None or decision.rule is not None or accepted.rule is None:
                accepted = decision  # the last accepting rule says most about why it passes
        return self._noted(doubt or accepted or Decision("accept", None, self.empty_reason))

    def _noted(self, decision: Decision) -> Decision:
        if not self.notes:
            return decision
        return replace(decision, reason=f"{decision.reason}; not evaluated: {', '.join(self.notes)}")


def on_path(hooked: Iterable[Hooked]) -> tuple[tuple[Chain, Chains], ...]:
    """The base chains in the order a packet meets them: prerouting before input, then by
    priority (a stable sort: equal priorities keep the order they were listed in)."""
    ordered = sorted(hooked, key=lambda entry: (HOOKS.index(entry.hook), entry.priority))
    return tuple((entry.chain, entry.chains) for entry in ordered)


@dataclass(frozen=True)
class Evaluator:
    """A host's compiled firewall, one per address family."""

    firewalls: Mapping[str, Firewall]
    port_bounds: frozenset[int] | None  # see migdoctor.netfilter.ranges
    judged: dict[tuple[object, ...], object] = field(default_factory=dict, compare=False, repr=False)  # ranges.py's

    def __call__(self, packet: Packet) -> Decision:
        return self.firewalls[packet.family](packet)

    @cached_property
    def reads(self) -> frozenset[str]:
        """What any family's firewall reads."""
        return frozenset().union(*(firewall.reads for firewall in self.firewalls.values()))

    def reads_for(self, family: str) -> frozenset[str]:
        """What the firewall of FAMILY reads (ranges.py asks once per pair of a fleet): an IPv6 rule
        naming a source does not make IPv4 judgements per source."""
        return self.firewalls[family].reads
