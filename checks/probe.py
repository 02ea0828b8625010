"""The active probe: a TCP connection from the source to the advertised name and a migration
port, answered by a listener migdoctor opened on the destination for the purpose."""

from __future__ import annotations

from migdoctor.checkapi import Evidence, Outcome, Registry, Skip, failed, passed
from migdoctor.judging.facts import addresses_in
from migdoctor.judging.pair import Pair
from migdoctor.judging.stack import carried_on, carrier_label

registry = Registry()


@registry.check(
    "probe.migration-port",
    "A test connection to the advertised name and a migration port reaches the destination on the migration link",
    "critical",
)
def migration_port(pair: Pair) -> Outcome:
    probe = pair.probe
    if probe is None:
        raise Skip("probe not run (saved facts judged, or --no-probe)")
    target = f"{probe['name']}:{probe['port']}"
    if probe["error"] and probe["port"] is None:
        return failed(
            f"the probe could not start: {probe['error']}",
            Evidence(pair.dst_label, "probe listener", probe["error"], "listening on a migration port"),
            remediation=f"see the listen.* and config.* findings for {pair.dst_label}",
        )
    if probe["error"]:
        return failed(
            f"{pair.src_label} could not reach {target} on {pair.dst_label}: {probe['error']}",
            Evidence(pair.src_label, f"connect {target}", probe["error"], "connected"),
            remediation="connected, then stalled: see link.path-mtu (a hop dropping large segments)"
            if probe["error"].startswith("connected to")
            else f"see the firewall.* and listen.* findings for {pair.dst_label}",
        )
    if pair.intent.network() is None:
        raise Skip("no migration network given or inferable (use --migration-network CIDR)")
    src_links = [link for link, _ in addresses_in(pair.src, pair.intent.network())]
    dst_links = [link for link, _ in addresses_in(pair.dst, pair.intent.network())]
    sent_by = carrier_label(pair.src, probe["source_link"], src_links)
    received_on = carrier_label(pair.dst, probe["destination_link"], dst_links)
    evidence = (
        Evidence(pair.src_label, "link that sent the bytes", sent_by, src_links),
        Evidence(pair.dst_label, "link that received the bytes", received_on, dst_links),
        Evidence(pair.src_label, "throughput sample (Mb/s)", probe["rate_mbps"]),
    )
    if carried_on(pair.src, probe["source_link"], src_links) is None:
        return failed(
            f"the probe's {probe['bytes']} bytes left {pair.src_label} by {sent_by} and reached {pair.dst_label} "
            f"on {received_on}: off the migration network",
            *evidence,
            remediation="see dns.migration-host-address and route.egress-interface",
        )
    return passed(
        f"{probe['bytes']} bytes to {target} crossed {pair.src_label} {sent_by} -> {pair.dst_label} "
        f"{received_on} at {probe['rate_mbps']} Mb/s",
        *evidence,
    )
