"""Would this host's firewall accept a new TCP connection from A to B:port arriving on link L?

Pure evaluators over the firewall facts migdoctor collects: the nftables ruleset as
`nft -j list ruleset` JSON, iptables-nft and iptables-legacy tables as `iptables-save` text, all
judged together (host_evaluator), and firewalld's zones. Checks use them to name the blocked
parts of a migration port range and the rule, chain or zone responsible.
"""

from migdoctor.netfilter.host import host_evaluator
from migdoctor.netfilter.iptables import evaluate_iptables, iptables_evaluator
from migdoctor.netfilter.model import Decision, Packet
from migdoctor.netfilter.nft import evaluate_nft, nft_evaluator
from migdoctor.netfilter.ranges import evaluate_port_range

__all__ = [
    "Decision",
    "Packet",
    "evaluate_iptables",
    "evaluate_nft",
    "evaluate_port_range",
    "host_evaluator",
    "iptables_evaluator",
    "nft_evaluator",
]
