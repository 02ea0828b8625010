"""Splits a port range into runs with one decision each, so checks can name blocked sub-ranges."""

from collections.abc import Callable
from dataclasses import replace

from migdoctor.netfilter.model import Decision, Packet


def evaluate_port_range(
    evaluate: Callable[[Packet], Decision], template: Packet, first: int, last: int
) -> list[tuple[int, int, Decision]]:
    """Contiguous (first, last, decision) runs covering first..last, in port order."""
    if not 0 <= first <= last <= 65535:
        raise ValueError(f"bad port range {first}-{last}")
    runs: list[tuple[int, int, Decision]] = []
    for port in range(first, last + 1):
        decision = evaluate(replace(template, dport=port))
        if runs and runs[-1][2] == decision:
            runs[-1] = (runs[-1][0], port, decision)
        else:
            runs.append((port, port, decision))
    return runs
