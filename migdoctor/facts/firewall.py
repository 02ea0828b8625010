"""The packet filter as the kernel has it now: nftables JSON, else iptables-save text."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from typing import Any

from migdoctor.facts.gaps import Gaps

COMMAND_TIMEOUT_S = 10
NOT_ROOT = "needs root: set become = true in the inventory, or run with --become"


def run_tool(argv: list[str]) -> str:
    result = subprocess.run(argv, capture_output=True, text=True, timeout=COMMAND_TIMEOUT_S)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} exited {result.returncode}: {result.stderr.strip()}")
    return result.stdout


def collect_firewall(gaps: Gaps) -> dict[str, Any] | None:
    """nftables first (what iptables-nft also writes to); iptables-save where nft is absent.
    Without root the kernel hides the ruleset: a gap, so no firewall check can pass on a guess."""
    if os.geteuid() != 0:
        gaps.add("firewall", f"reading the ruleset {NOT_ROOT}")
        return None
    if shutil.which("nft"):
        ruleset = gaps.attempt("firewall", lambda: json.loads(run_tool(["nft", "-j", "list", "ruleset"])))
        return {"backend": "nftables", "nftables": ruleset} if ruleset is not None else None
    if shutil.which("iptables-save"):
        text = gaps.attempt("firewall", lambda: run_tool(["iptables-save"]))
        return {"backend": "iptables", "iptables_save": text} if text is not None else None
    gaps.add("firewall", "neither nft nor iptables-save is installed")
    return None
