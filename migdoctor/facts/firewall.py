"""Every netfilter table that can drop a packet on this host, each with the command it was read by.

nftables (`nft -j list ruleset`) holds native tables and those iptables-nft writes; the xt
matches of the latter are opaque in its JSON, so `iptables-nft-save` and `ip6tables-nft-save`
are read too. iptables-legacy tables are invisible to nft: `iptables-legacy-save` and
`ip6tables-legacy-save` read them (an `iptables-save` that is not the nf_tables variant is the
legacy one). firewalld's permanent configuration is read as files, so no D-Bus is needed.
Runs on bare hosts under the system python3: stdlib only, Python 3.9.
"""

from __future__ import annotations

import glob
import json
import os
import re
import shutil
import subprocess
from collections.abc import Callable
from typing import Any

from migdoctor.facts.gaps import Gaps

COMMAND_TIMEOUT_S = 10
NOT_ROOT = "needs root: set become = true in the inventory, or run with --become"
# (kind, family, command): iptables-save text sources, read where the command is installed
IPTABLES_SOURCES = (
    ("iptables-nft", "ip", "iptables-nft-save"),
    ("iptables-nft", "ip6", "ip6tables-nft-save"),
    ("iptables-legacy", "ip", "iptables-legacy-save"),
    ("iptables-legacy", "ip6", "ip6tables-legacy-save"),
)
FIREWALLD_DIRS = ("/usr/lib/firewalld", "/etc/firewalld")  # defaults, then the admin's overrides
FIREWALLD_FILE_MAX = 256 * 1024
SERVICE_NAME = re.compile(r"<service\s+name=\"([^\"/]+)\"")


def run_tool(argv: list[str]) -> str:
    result = subprocess.run(argv, capture_output=True, text=True, timeout=COMMAND_TIMEOUT_S)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} exited {result.returncode}: {result.stderr.strip()}")
    return result.stdout


def collect_firewall(gaps: Gaps) -> dict[str, Any] | None:
    """Each source read, and each that could not be (`unread`, with why): a table that could not
    be read is never taken as empty. Without root the kernel hides the rulesets: a gap."""
    if os.geteuid() != 0:
        gaps.add("firewall", f"reading the ruleset {NOT_ROOT}")
        return None
    sources: list[dict[str, Any]] = []
    unread: list[dict[str, str]] = []

    def read(command: str, field: str, parse: Callable[[str], Any], **source: str) -> None:
        try:
            sources.append({"command": command, **source, field: parse(run_tool(command.split()))})
        except (OSError, RuntimeError, ValueError, subprocess.SubprocessError) as exc:
            unread.append({"command": command, "reason": str(exc) or type(exc).__name__})

    if shutil.which("nft"):
        read("nft -j list ruleset", "ruleset", json.loads, kind="nftables")
    for kind, family, command in iptables_commands():
        read(command, "save", str, kind=kind, family=family)
    if not sources and not unread:
        gaps.add("firewall", "none of nft, iptables-nft-save, iptables-legacy-save is installed")
        return None
    return {"sources": sources, "unread": unread, "firewalld": firewalld_files()}


def iptables_commands() -> list[tuple[str, str, str]]:
    """The iptables-save variants installed; a plain `iptables-save` that is not nf_tables is
    legacy (iptables before 1.8 has no other)."""
    found = [source for source in IPTABLES_SOURCES if shutil.which(source[2])]
    if not any(kind == "iptables-legacy" for kind, _, _ in found):
        for family, command in (("ip", "iptables-save"), ("ip6", "ip6tables-save")):
            if shutil.which(command) and "nf_tables" not in tool_version(command):
                found.append(("iptables-legacy", family, command))
    return found


def tool_version(command: str) -> str:
    try:
        return run_tool([command, "--version"])
    except (OSError, RuntimeError, subprocess.SubprocessError):
        return ""


def firewalld_files() -> dict[str, str] | None:
    """firewalld.conf, every zone, and the services the zones name, by path (the /etc copy of a
    zone or service overrides the /usr/lib one); None where firewalld is not installed."""
    if not any(os.path.isdir(directory) for directory in FIREWALLD_DIRS):
        return None
    paths = [os.path.join(FIREWALLD_DIRS[-1], "firewalld.conf")]
    for directory in FIREWALLD_DIRS:
        paths.extend(sorted(glob.glob(os.path.join(directory, "zones", "*.xml"))))
    files = {path: text for path, text in ((path, read_text(path)) for path in paths) if text is not None}
    services = sorted({name for text in files.values() for name in SERVICE_NAME.findall(text)})
    for name in services:
        for directory in FIREWALLD_DIRS:
            path = os.path.join(directory, "services", f"{name}.xml")
            text = read_text(path)
            if text is not None:
                files[path] = text
    return files


def read_text(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return handle.read(FIREWALLD_FILE_MAX)
    except OSError:
        return None
