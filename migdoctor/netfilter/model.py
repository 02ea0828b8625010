"""The question the firewall evaluators answer and the answer they give."""

from dataclasses import dataclass, field
from functools import lru_cache
from ipaddress import IPv4Address, IPv6Address, ip_address

FAMILY_VERSION = {"ip": 4, "ip6": 6}
VERDICTS = ("accept", "drop", "reject", "unknown")


@lru_cache(maxsize=4096)
def parsed(address: str) -> IPv4Address | IPv6Address:
    """ADDRESS parsed once: a port range is judged port by port, for every pair of a fleet."""
    return ip_address(address)


@dataclass(frozen=True)
class Packet:
    """A new inbound TCP connection (a SYN, conntrack state new) to this host.

    A migration stream is exactly this, so the evaluators need no other kind of packet.
    """

    saddr: str
    daddr: str
    iifname: str
    dport: int
    family: str = "ip"  # "ip" or "ip6"
    # whether this host's route back to saddr leaves by iifname (what a reverse-path filter asks);
    # None: not known, and a rule that asks is then a doubt
    return_route: bool | None = None

    def __post_init__(self) -> None:
        version = FAMILY_VERSION.get(self.family)
        if version is None:
            raise ValueError(f"family must be 'ip' or 'ip6', not {self.family!r}")
        for address in (self.saddr, self.daddr):
            if parsed(address).version != version:
                raise ValueError(f"{address} is not an address of family {self.family}")
        if not 0 <= self.dport <= 65535:
            raise ValueError(f"port {self.dport} is out of range")

    def address(self, field: str) -> int:
        """saddr or daddr as an integer, the form address ranges are compared in."""
        return int(parsed(getattr(self, field)))


@dataclass(frozen=True)
class Base:
    """A base chain as the tool that manages it names it: `nft insert rule inet filter input`,
    `iptables-legacy -t filter -I INPUT`."""

    tool: str  # nft | iptables | ip6tables | iptables-legacy | ip6tables-legacy (the command, no -save)
    table: str  # "inet filter" for nft, "filter" for iptables
    chain: str

    def __str__(self) -> str:
        return f"{self.tool} {self.table} {self.chain}"


@dataclass(frozen=True)
class Decision:
    """What the firewall does with the packet, and which rule (None: a chain policy) decided."""

    verdict: str  # one of VERDICTS
    rule: str | None
    reason: str
    base: Base | None = field(default=None, compare=False)  # the base chain that decided: where an accept goes
