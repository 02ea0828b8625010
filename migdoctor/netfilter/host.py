"""A host's whole packet filter as the facts' `firewall` part records it: the nftables ruleset
(with the iptables-nft tables read from iptables-nft-save where their JSON is opaque) and the
iptables-legacy tables, whose base chains all see the packet. It is accepted only if every one
accepts it; a source that could not be read leaves every accept in doubt."""

from collections.abc import Mapping
from typing import Any

from migdoctor.netfilter.engine import FAMILIES, Chain, Doubt, Evaluator, Firewall, Hooked, Rule, constant, on_path
from migdoctor.netfilter.iptables import Table, hooked_chains, parse_save, save_bounds
from migdoctor.netfilter.nft import IPTABLES_TOOL, NftRuleset, port_bounds

# what a schema-valid source that is not its command's output raises while compiled
MALFORMED = (ValueError, TypeError, KeyError, AttributeError, IndexError)


def host_evaluator(firewall: Mapping[str, Any]) -> Evaluator:
    """Compile every source once. A source that is not what its command prints (schema-valid
    facts can still hold that) is a doubt naming it, like one that could not be read."""
    sources = firewall["sources"]
    hooked: dict[str, list[Hooked]] = {family: [] for family in FAMILIES}
    notes: dict[str, list[str]] = {family: [] for family in FAMILIES}
    bounds: list[frozenset[int] | None] = []
    saves: dict[str, dict[str, Table]] = {}
    for index, source in enumerate(sources):
        if source["kind"] == "iptables-nft":
            try:
                saves[source["family"]] = parse_save(source["save"])
            except MALFORMED as exc:
                hooked[source["family"]].append(doubt_chain(source["command"], malformed(index, exc)))
    for index, source in enumerate(sources):
        try:
            if source["kind"] == "nftables":
                ruleset = NftRuleset(source["ruleset"], saves)
                bounds.append(port_bounds(ruleset.objects, ruleset.from_saves))
                for family in FAMILIES:
                    hooked[family] += ruleset.hooked(family)
                    notes[family] += ruleset.notes(family)
            else:
                bounds.append(save_bounds(source["save"]))
                if source["kind"] == "iptables-legacy":
                    hooked[source["family"]] += hooked_chains(parse_save(source["save"]), tool_of(source))
        except MALFORMED as exc:
            for family in families_of(source.get("command", "")):
                hooked[family].append(doubt_chain(source.get("command", "?"), malformed(index, exc)))
    for unread in firewall["unread"]:
        for family in families_of(unread["command"]):
            hooked[family].append(doubt_chain(unread["command"], f"could not be read ({unread['reason']})"))
    firewalls = {
        family: Firewall(
            on_path(hooked[family]), f"no table of this host filters {family} packets to it", tuple(notes[family])
        )
        for family in FAMILIES
    }
    known = [bound for bound in bounds if bound is not None]
    return Evaluator(firewalls, None if len(known) < len(bounds) else frozenset().union(*known))


def malformed(index: int, exc: Exception) -> str:
    return f"is not what it prints (firewall.sources[{index}]: {type(exc).__name__}: {exc})"


def tool_of(source: Mapping[str, Any]) -> str:
    """The command that writes an iptables source's tables, as findings and fixes name it:
    iptables or ip6tables for iptables-nft's (nft.IPTABLES_TOOL), the save command without
    -save for legacy ones (iptables-legacy, or a plain iptables on a legacy-only host)."""
    if source["kind"] == "iptables-nft":
        return IPTABLES_TOOL.get(source["family"], "iptables")
    return str(source["command"]).split()[0].removesuffix("-save")


def families_of(command: str) -> tuple[str, ...]:
    """The address families COMMAND reads: ip6tables-* the ip6 ones, iptables-* the ip ones."""
    if command.startswith("ip6tables"):
        return ("ip6",)
    if command.startswith("iptables"):
        return ("ip",)
    return FAMILIES


def doubt_chain(command: str, why: str) -> Hooked:
    """A source that could not be read or understood, as a chain whose outcome is unknown: a
    drop elsewhere is still certain, an accept is not."""
    doubt = Doubt(f"`{command}` {why}: its tables may drop the packet", effect=True)
    rule = Rule(f"`{command}`", f"`{command}` (not evaluated)", (constant(doubt),))
    return Hooked("input", 0, Chain(f"`{command}`", (rule,)), {})


def upgraded(firewall: Mapping[str, Any]) -> dict[str, Any]:
    """A firewall part of facts schema 1 ({"backend": ..., "nftables" | "iptables_save": ...}) in
    this schema's form; what schema 1 did not collect is named by `lacking`."""
    if "sources" in firewall:
        return dict(firewall)
    if firewall.get("backend") == "nftables":
        source = {"command": "nft -j list ruleset", "kind": "nftables", "ruleset": firewall["nftables"]}
    else:
        source = {
            "command": "iptables-save",
            "kind": "iptables-legacy",
            "family": "ip",
            "save": firewall["iptables_save"],
        }
    return {"sources": [source], "unread": [], "firewalld": None}


def lacking(firewall: Mapping[str, Any]) -> str | None:
    """What a firewall part of facts schema 1 lacks, or None for this schema's."""
    if "sources" in firewall:
        return None
    if firewall.get("backend") == "nftables":
        return "the iptables-legacy tables and iptables-nft-save (facts schema 1 does not collect them)"
    return "the ip6tables and nftables tables (facts schema 1 does not collect them)"
