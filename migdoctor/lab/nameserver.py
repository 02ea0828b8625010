"""The lab's DNS: one dnsmasq, authoritative for lab.test and its reverse zones, no upstream.

It runs in its own namespace on the management bridge, so both hosts resolve through a real
server the way the forum thread's hosts did, and nothing is ever forwarded off the machine.
"""

import functools

from migdoctor.lab import layout, procs

DIR = layout.STATE_DIR / "dns"
CONF = DIR / "dnsmasq.conf"
HOSTS = DIR / "hosts"
LOG = DIR / "dnsmasq.log"


def write(records: dict[str, list[str]]) -> None:
    """Write dnsmasq's config and its records (the first name of an address answers PTR)."""
    DIR.mkdir(parents=True, exist_ok=True)
    HOSTS.write_text("".join(f"{ip}\t{name}\n" for name, ips in records.items() for ip in ips))
    reverse = ",".join((layout.LAN_NET, layout.FAST_NET, layout.MGMT_NET, layout.LAN6_NET, layout.FAST6_NET))
    CONF.write_text(f"""# written by migdoctor lab
no-resolv
no-hosts
no-poll
bind-interfaces
listen-address={layout.DNS_IP}
addn-hosts={HOSTS}
auth-server={layout.DNS_NAME},{layout.DNS_IP}
auth-zone={layout.ZONE},{reverse}
auth-soa=1,hostmaster.{layout.ZONE}
user=root
group=root
""")


def start() -> int:
    return procs.spawn(
        [
            "ip",
            "netns",
            "exec",
            layout.DNS_NS,
            "dnsmasq",
            "--keep-in-foreground",
            f"--conf-file={CONF}",
            "--pid-file",
            f"--log-facility={LOG}",
        ],
        DIR / "dnsmasq.out",
    )


def wait(pid: int, netns: list[str], timeout: float) -> None:
    """Ready when the server answers from the root namespace and from inside every host: the
    hosts' own resolvers reach it over their management links, which need carrier first."""

    def died() -> str | None:
        if procs.alive(pid):
            return None
        return f"exited: {procs.log_tail(LOG)}"

    procs.wait_for(answers, "dnsmasq", timeout, died)
    for name in netns:
        procs.wait_for(functools.partial(answers, name), f"dnsmasq seen from {name}", timeout, died)


def answers(netns: str | None = None) -> bool:
    """The server answers authoritatively for the zone's SOA (asked from inside `netns`)."""
    import socket

    import dns.exception
    import dns.flags
    import dns.message
    import dns.query
    from pyroute2.netns import create_socket

    try:
        sock = create_socket(netns, socket.AF_INET, socket.SOCK_DGRAM, flags=0)
    except OSError:
        return False
    with sock:
        try:
            reply = dns.query.udp(dns.message.make_query(layout.ZONE, "SOA"), layout.DNS_IP, timeout=0.2, sock=sock)
        except (OSError, dns.exception.DNSException):
            return False
    return bool(reply.flags & dns.flags.AA) and bool(reply.answer)
