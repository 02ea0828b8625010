"""The timed test migration's verdict: did a real live migration take the migration network,
succeed, and move at a rate worth the link it took?"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from migdoctor.checkapi import Evidence, Outcome, Registry, Skip, failed, passed, warned
from migdoctor.judging.carrier import carrier_label, migration_links, on_migration_network
from migdoctor.judging.fixes import migration_host_fix
from migdoctor.judging.pair import Pair
from migdoctor.judging.stack import link_rate
from migdoctor.units import human_bytes

registry = Registry(order=100)
# In a peer-to-peer migration libvirt may report the closing of its connection to the peer
# instead of the error that ended the migration (seen with a firewall rejecting the stream).
PEER_CONNECTION_LOST = "End of file while reading data"
TLS_REQUIRED = "allows migration only with VIR_MIGRATE_TLS flag"
TLS_CHANNEL = "TLS channel"  # the destination QEMU's side of a refused TLS stream


def leg_line(leg: dict[str, Any]) -> str:
    if not leg["ok"]:
        return f"{leg['from']} -> {leg['to']} failed: {leg['error']}"
    return (
        f"{leg['from']} {leg['source_link']} -> {leg['to']} {leg['destination_link']}: "
        f"{human_bytes(leg['source_tx_bytes'])} in {leg['wall_s']:.2f} s ({leg['rate_mbps']} Mb/s)"
    )


def failure_hint(pair: Pair, domain: str, error: str) -> str:
    """Where the cause of a failed migration is named, by what libvirt said."""
    if TLS_REQUIRED in error:
        return "migrate_tls_force = 1 refuses migrations without TLS: pass --tls (see tls.migration-config)"
    if TLS_CHANNEL in error:
        return (
            f"the stream's TLS handshake failed: see the tls.* findings; QEMU's reason is in "
            f"{pair.src_label}:/var/log/libvirt/qemu/{domain}.log"
        )
    hint = (
        f"; libvirt lost its peer connection, which can hide the first error: {pair.src_label}'s libvirtd log has it"
        if PEER_CONNECTION_LOST in error
        else ""
    )
    return f"see the trust.*, firewall.*, listen.*, tls.* and dns.* findings for the cause{hint}"


def reversed_pair(pair: Pair) -> Pair:
    """The pair the return leg migrates: from the destination back to the source."""
    return replace(pair, src_label=pair.dst_label, dst_label=pair.src_label, src=pair.dst, dst=pair.src)


def judge_leg(pair: Pair, leg: dict[str, Any], back: bool, domain: str, evidence: list[Evidence]) -> Outcome | None:
    """Why LEG, from PAIR's source to its destination (BACK: the return leg), did not pass: libvirt's
    error, a stream off the migration network, a rate below the floor; None when it passed. Its rate
    joins EVIDENCE."""
    migration = "the return migration" if back else "the migration"
    stream = "the return migration's stream" if back else "the migration stream"
    if not leg["ok"]:
        said = "the return migration failed" if back else f"live migration {pair.src_label} -> {pair.dst_label} failed"
        return failed(f"{said}: {leg['error']}", *evidence, remediation=failure_hint(pair, domain, leg["error"] or ""))
    network, link = pair.intent.migration_network, leg["source_link"]
    if on_migration_network(pair.src, link, network) is False:
        return failed(
            f"{stream} left {pair.src_label} by {link} and reached {pair.dst_label} on "
            f"{leg['destination_link']}, off the migration network {network}",
            *evidence,
            Evidence(pair.src_label, "link that carried the stream", link, migration_links(pair.src, network)),
            remediation=migration_host_fix(pair),
        )
    effective = link_rate(pair.src, link)
    rate = leg["rate_mbps"] or 0
    floor = max(pair.trial_terms.min_rate_mbps or 0, (effective or 0) * pair.trial_terms.min_rate_fraction)
    evidence.append(Evidence(pair.src_label, f"rate on {link} (Mb/s)", rate, f">= {floor:g}"))
    if rate < floor:
        return failed(
            f"{migration} moved {rate} Mb/s on {link}, below {floor:g} Mb/s (link effective speed {effective} Mb/s)",
            *evidence,
            remediation=f"{pair.src_label}: check what else loads {link} and its shaping (tc qdisc show dev {link})",
        )
    return None


@registry.check(
    "migration.test-migration",
    "A real live migration of a canary takes the migration network at a rate worth its link",
    "critical",
    needs=("src.links", "dst.links"),
    description=(
        "a real live migration of a canary guest (there and back) fails, takes a link off the migration "
        "network, or moves below `--min-rate` or `--min-rate-fraction` of that link's effective speed; the "
        "links that carried it are named from both hosts' byte counters"
    ),
    rationale=(
        "Only a real migration proves what the change request asks: the tunnelled stream that is CPU-bound at "
        "1 MB/s on a 10G link (rapier1/hpn-ssh 80), a guest that never converges (kubevirt 3504), a "
        "fall-back to the management NIC that logs nothing"
    ),
    fix=(
        "the finding names the link, rate or libvirt error; the dns, route, firewall, tls and trust findings "
        "name the setting to change"
    ),
)
def test_migration(pair: Pair) -> Outcome:
    trial = pair.trial
    if trial is None:
        raise Skip("test migration not run (use --test-migration)")
    if "refused" in trial:  # one pair of several: the run went on without it
        raise Skip(
            f"test migration refused: {trial['refused']}; this pair's other checks ran: once that is fixed, "
            f"`migdoctor migrate-test {pair.src_label} {pair.dst_label}` tries it alone"
        )
    legs = trial["legs"]
    evidence = [Evidence(leg["from"], f"migration to {leg['to']}", leg_line(leg)) for leg in legs]
    evidence += [Evidence(note.split(":", 1)[0], "clean-up", note.split(": ", 1)[1]) for note in trial["cleanup"]]
    if trial["interrupted"] or not legs:
        return failed("the test migration was interrupted before it finished", *evidence)
    for back, leg in enumerate(legs):  # the way back judged as the way there: off the network is no pass
        verdict = judge_leg(reversed_pair(pair) if back else pair, leg, bool(back), trial["domain"], evidence)
        if verdict is not None:
            return verdict
    outbound = legs[0]
    network = pair.intent.migration_network
    on_network, dst_on_network = migration_links(pair.src, network), migration_links(pair.dst, network)
    effective = link_rate(pair.src, outbound["source_link"])
    rate = outbound["rate_mbps"] or 0
    share = f" ({rate / effective:.0%} of {effective} Mb/s)" if effective else ""
    share += f" and back at {legs[1]['rate_mbps']} Mb/s" if len(legs) > 1 else ""
    share += " over TLS" if trial.get("tls") else ""
    leftovers = [note for note in trial["cleanup"] if "clean-up incomplete" in note]
    if leftovers:
        return warned(f"the test migration passed, but its clean-up is incomplete: {leftovers[0]}", *evidence)
    if network is None:
        return warned(
            f"the canary crossed {pair.src_label} {outbound['source_link']} -> {pair.dst_label} "
            f"{outbound['destination_link']} at {rate} Mb/s{share}, but no migration network was given or "
            "inferable to judge that link against",
            *evidence,
            Evidence(pair.src_label, "link that carried the stream", outbound["source_link"]),
            remediation="name the network migrations should take: --migration-network CIDR, or migration_network "
            "in the inventory",
        )
    return passed(
        f"the canary crossed {pair.src_label} {carrier_label(pair.src, outbound['source_link'], on_network)} -> "
        f"{pair.dst_label} {carrier_label(pair.dst, outbound['destination_link'], dst_on_network)} at {rate} Mb/s{share}",
        *evidence,
    )
