"""The test migration's policy: after the probes (their byte counters must not mix), one pair at
a time, its timeout sized to the canary and the slowest addressed link of either host."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from migdoctor.actions.migration import TrialRefused
from migdoctor.judging.facts import interface_addresses
from migdoctor.judging.stack import link_rate
from migdoctor.run.request import Request
from migdoctor.transports import Transport, TransportError


def trial_of(
    request: Request, src: Transport, dst: Transport, src_facts: dict[str, Any], dst_facts: dict[str, Any]
) -> dict[str, Any]:
    """The test migration; its timeout defaults to three times the canary's RAM over the slowest
    addressed link of either host."""
    from migdoctor.actions.migration import default_timeout, run_trial

    options = request.trial
    assert options is not None
    if not options.timeout_s:
        rates = [
            rate
            for facts in (src_facts, dst_facts)
            for link, _, _ in interface_addresses(facts)
            if (rate := link_rate(facts, link))
        ]
        options = replace(options, timeout_s=default_timeout(options.memory_mib, min(rates, default=None)))
    return run_trial(src, dst, options, request.run_id, request.progress)


def trial_or_refusal(
    request: Request, src: Transport, dst: Transport, src_facts: dict[str, Any], dst_facts: dict[str, Any]
) -> dict[str, Any]:
    """The pair's test migration, or why it was refused. A one-pair run ends on a refusal, or on a
    far side that ended mid-trial with everything cleaned up (its one line, exit status 2); in a run
    of several pairs either is that pair's record (judged by migration.test-migration, exit status 2
    for that pair) and the other pairs' trials go on."""
    try:
        return trial_of(request, src, dst, src_facts, dst_facts)
    except (TrialRefused, TransportError) as exc:
        if len(request.pairs) == 1:
            raise
        return {"refused": str(exc)}


def refusal_note(src: str, dst: str, reason: str) -> str:
    """The pair's "not checked" line for a refused trial, also said on stderr (exit status 2)."""
    return f"{src} -> {dst}: test migration refused: {reason}"


def untried_relocation(label: str, facts: dict[str, Any]) -> list[str]:
    """A Xen destination without a running xend: its relocation is judged from the config alone,
    since neither the probe (QEMU's ports) nor anything else tried a migration through it."""
    config = facts.get("config") or {}
    xend_config = config.get("xend_config") or {}
    if "xen" not in facts["identity"]["hypervisor"]["kinds"] or not xend_config.get("present"):
        return []
    if any(daemon["name"] == "xend" for daemon in config.get("daemons") or []):
        return []
    return [f"{label}: Xen relocation itself not tried: no xend runs there; xen.* judge {xend_config['path']} only"]
