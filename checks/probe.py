"""The active probe: TCP connections from the source to the advertised name and the first and last
ports of the migration range, answered by listeners migdoctor opened on the destination for the purpose."""

from __future__ import annotations

from migdoctor.checkapi import Evidence, Outcome, Registry, Skip, failed, passed
from migdoctor.judging.carrier import carrier_label, migration_links, on_migration_network
from migdoctor.judging.pair import Pair
from migdoctor.units import human_bytes

registry = Registry(order=90)


@registry.check(
    "probe.migration-port",
    "Test connections to the advertised name and the first and last migration ports reach the destination on "
    "the migration link",
    "critical",
    description=(
        "a TCP connection from the source to the advertised name and the first free port of the migration range, "
        "as QEMU would open it, does not reach the listener migdoctor opens on the destination, or its bytes cross "
        "a link off the migration network (the links are named from both hosts' byte counters), or a connection "
        "to the range's last port, opened at the same time, does not reach the destination (a half-open range)"
    ),
    rationale=(
        "Static checks predict the path; a real connection proves it without migrating a guest, as the SUSE "
        "forums thread was told to confirm it with tcpdump on the 10G interface"
    ),
    fix="the dns, route, listen and firewall findings name the cause; fix those and run the check again",
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
    last_target = f"{probe['name']}:{probe['last_port']}"
    last = (
        [
            Evidence(
                pair.src_label, f"connect {last_target} (last port)", probe["last_error"] or "connected", "connected"
            )
        ]
        if probe["last_port"]
        else []
    )
    if probe["error"]:
        neither = f"; nor {last_target}: {probe['last_error']}" if probe["last_error"] else ""
        return failed(
            f"{pair.src_label} could not reach {target} on {pair.dst_label}: {probe['error']}{neither}",
            Evidence(pair.src_label, f"connect {target}", probe["error"], "connected"),
            *last,
            remediation="connected, then stalled: see link.path-mtu (a hop dropping large segments)"
            if probe["error"].startswith("connected to")
            else f"see the firewall.* and listen.* findings for {pair.dst_label}",
        )
    if probe["last_error"]:
        return failed(
            f"{pair.src_label} reached {target} but not {last_target}, the last port of the migration range, "
            f"on {pair.dst_label}: {probe['last_error']}",
            Evidence(pair.src_label, f"connect {target}", "connected", "connected"),
            *last,
            remediation=f"see the firewall.* findings for {pair.dst_label}: each concurrent migration takes "
            "the next port of the range, so all of it must be open",
        )
    network = pair.intent.migration_network
    if network is None:
        raise Skip("no migration network given or inferable (use --migration-network CIDR)")
    src_links, dst_links = migration_links(pair.src, network), migration_links(pair.dst, network)
    sent_by = carrier_label(pair.src, probe["source_link"], src_links)
    received_on = carrier_label(pair.dst, probe["destination_link"], dst_links)
    evidence = (
        Evidence(pair.src_label, "link that sent the bytes", sent_by, src_links),
        Evidence(pair.dst_label, "link that received the bytes", received_on, dst_links),
        Evidence(pair.src_label, "throughput sample (Mb/s)", probe["rate_mbps"]),
        Evidence(pair.dst_label, "bandwidth once steady (Mb/s)", probe["bandwidth_mbps"]),
        *last,
    )
    if not on_migration_network(pair.src, probe["source_link"], network):
        return failed(
            f"the probe's {human_bytes(probe['bytes'])} left {pair.src_label} by {sent_by} and reached {pair.dst_label} "
            f"on {received_on}: off the migration network",
            *evidence,
            remediation="see dns.migration-host-address and route.egress-interface",
        )
    steady = probe["bandwidth_mbps"]  # None: the sample ended before it was steady
    rate = f"{steady} Mb/s once steady" if steady else f"{probe['rate_mbps']} Mb/s"
    if probe["last_port"]:
        also = f"; {last_target}, the last port of the range, accepted a connection too"
    else:
        also = f"; the last port of the range was not tried: {probe['last_untried']}" if probe["last_untried"] else ""
    return passed(
        f"{human_bytes(probe['bytes'])} to {target} crossed {pair.src_label} {sent_by} -> {pair.dst_label} "
        f"{received_on} at {rate}{also}",
        *evidence,
    )
