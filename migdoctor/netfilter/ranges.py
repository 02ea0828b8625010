"""Splits a port range into runs with one decision each, so checks can name blocked sub-ranges."""

from collections.abc import Callable, Iterable
from dataclasses import replace

from migdoctor.netfilter.model import Decision, Packet


def evaluate_port_range(
    evaluate: Callable[[Packet], Decision], template: Packet, first: int, last: int
) -> list[tuple[int, int, Decision]]:
    """Contiguous (first, last, decision) runs covering first..last, in port order. An evaluator
    that knows where its decisions can change (`port_bounds`: the ports its rules name, and the
    ones just past them) is asked once per stretch between two, not once per port."""
    if not 0 <= first <= last <= 65535:
        raise ValueError(f"bad port range {first}-{last}")
    bounds = getattr(evaluate, "port_bounds", None)
    starts = (
        list(range(first, last + 1)) if bounds is None else sorted({first, *(b for b in bounds if first < b <= last)})
    )
    runs: list[tuple[int, int, Decision]] = []
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
