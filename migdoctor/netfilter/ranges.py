"""Splits a port range into runs with one decision each, so checks can name blocked sub-ranges."""

from collections.abc import Callable, Iterable
from dataclasses import replace

from migdoctor.netfilter.model import Decision, Packet

Runs = list[tuple[int, int, Decision]]


def evaluate_port_range(evaluate: Callable[[Packet], Decision], template: Packet, first: int, last: int) -> Runs:
    """Contiguous (first, last, decision) runs covering first..last, in port order. An evaluator
    that knows where its decisions can change (`port_bounds`: the ports its rules name, and the
    ones just past them) is asked once per stretch between two, not once per port. One that knows
    which packet fields its rules read (`reads`) answers once for all packets alike in those
    (`judged`: a fleet's sources into one host, when its rules name no source address)."""
    reads_for = getattr(evaluate, "reads_for", None)
    reads = reads_for(template.family) if reads_for is not None else getattr(evaluate, "reads", None)
    judged = getattr(evaluate, "judged", None)
    if reads is None or judged is None:
        return port_runs(evaluate, template, first, last)
    key = (*(getattr(template, name) for name in sorted(reads - {"dport"})), first, last)
    runs = judged.get(key)
    if runs is None:
        runs = judged[key] = tuple(port_runs(evaluate, template, first, last))
    return list(runs)


def port_runs(evaluate: Callable[[Packet], Decision], template: Packet, first: int, last: int) -> Runs:
    if not 0 <= first <= last <= 65535:
        raise ValueError(f"bad port range {first}-{last}")
    bounds = getattr(evaluate, "port_bounds", None)
    starts = (
        list(range(first, last + 1)) if bounds is None else sorted({first, *(b for b in bounds if first < b <= last)})
    )
    runs: Runs = []
    for port, following in zip(starts, [*starts[1:], last + 1], strict=True):
        decision = evaluate(replace(template, dport=port))
        if runs and runs[-1][2] == decision:
            runs[-1] = (runs[-1][0], following - 1, decision)
        else:
            runs.append((port, following - 1, decision))
    return runs


def bounds_of(numbers: Iterable[int]) -> frozenset[int]:
    """Where a decision over ports can change, given every number the rules compare ports with."""
    return frozenset(port for number in numbers if 0 <= number <= 65535 for port in (number, number + 1))
