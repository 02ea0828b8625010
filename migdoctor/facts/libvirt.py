"""What only libvirt knows about a host (the name it offers for incoming migrations, libvirt and
QEMU versions, KVM, its domains), asked from the control node through the host's libvirt URI:
libvirt's own remote protocol, the path the migration is driven through, so the host needs no
libvirt-python."""

from __future__ import annotations

from functools import partial
from typing import Any
from xml.etree import ElementTree

from migdoctor.facts.dirtyrate import Measuring, add_limits, add_rates, start_dirty_rates
from migdoctor.facts.gaps import Gaps
from migdoctor.facts.guests import GuestAsk, collect_guests, collect_virt, shared_filesystems


def dotted_version(number: int) -> str:
    """libvirt encodes versions as major * 1,000,000 + minor * 1,000 + release."""
    return f"{number // 1_000_000}.{number // 1_000 % 1_000}.{number % 1_000}"


def offers_kvm(capabilities_xml: str) -> bool:
    """Whether libvirt's capabilities list a guest domain type 'kvm' (a read-only connection
    may not ask for domain capabilities)."""
    root = ElementTree.fromstring(capabilities_xml)
    return any(domain.get("type") == "kvm" for domain in root.iter("domain"))


def libvirt_facts(
    uri: str | None, route: str | None = None, guests: GuestAsk | None = None
) -> tuple[dict[str, Any] | None, str | None, dict[str, Any]]:
    """(facts, None, parts), or (None, why not, parts): a URI that cannot be opened is a gap with
    libvirt's error. ROUTE, when given, is what is opened to reach URI (the same host through a
    connection already made); facts and errors name URI. GUESTS, when the run asks for guests,
    adds the parts `virt` (and on a source `guests`) with their gaps under `missing`; the
    connection is then read-write, as domain capabilities need, and makes read-only calls only."""
    if not uri:
        reason = "no libvirt URI for this host (set libvirt_uri in the inventory)"
        return None, reason, guest_gaps(guests, reason)
    import libvirt

    libvirt.registerErrorHandler(lambda _ctx, _err: None, None)
    parts: dict[str, Any] = {}
    conn = None
    handed_over = False  # the connection is the later dirty-rate reading's to close
    if guests is not None:  # refused read-write: the guest parts are gaps, the rest is still asked
        try:
            conn = libvirt.open(route or uri)
        except libvirt.libvirtError as exc:
            parts = guest_gaps(guests, f"cannot open {uri} read-write, as guests need: {exc.get_error_message()}")
    try:
        conn = conn or libvirt.openReadOnly(route or uri)
    except libvirt.libvirtError as exc:
        reason = f"cannot open {uri}: {exc.get_error_message()}"
        return None, reason, parts or guest_gaps(guests, reason)
    try:
        if guests is not None and not parts:
            gaps = Gaps()
            measuring = (
                gaps.attempt("guests.migration", partial(start_measuring, conn, guests.names))
                if guests.source
                else None
            )
            parts["virt"] = collect_virt(conn, gaps)
            if guests.source:
                parts["guests"] = gaps.attempt("guests", lambda: collect_guests(conn, guests.names, gaps))
                if parts["guests"] and measuring is not None:
                    add_limits(parts["guests"], measuring, gaps)
                    if guests.later is None:
                        add_rates(parts["guests"], measuring)
                    else:
                        guests.later.append(partial(read_rates, parts["guests"], measuring))
                        handed_over = True
            parts["missing"] = gaps.entries
        return (
            {
                "uri": uri,
                "version": dotted_version(conn.getLibVersion()),
                "hypervisor_version": dotted_version(conn.getVersion()),
                "hostname": conn.getHostname(),
                "kvm": offers_kvm(conn.getCapabilities()),
                "domains": [{"name": dom.name(), "active": bool(dom.isActive())} for dom in conn.listAllDomains()],
            },
            None,
            parts,
        )
    except libvirt.libvirtError as exc:
        reason = f"{uri}: {exc.get_error_message()}"
        lost = [gap for gap in guest_gaps(guests, reason).get("missing", []) if gap["fact"] not in parts]
        return None, reason, {**parts, "missing": [*parts.get("missing", []), *lost]}
    finally:
        if not handed_over:
            conn.close()


def read_rates(entries: list[dict[str, Any]], measuring: Measuring) -> None:
    """The dirty rates into ENTRIES once the run is ready for them; then the connection they were
    measured through is closed."""
    try:
        add_rates(entries, measuring)
    finally:
        measuring.close()


def start_measuring(conn: Any, names: tuple[str, ...]) -> Measuring:
    """The dirty-rate calculations of the running guests NAMES asks for (none: all), started first
    once the connection is open: the period runs while everything else is asked, and its end is
    what an evacuation waits for last."""
    import libvirt

    running = conn.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_ACTIVE)
    return start_dirty_rates(conn, [dom for dom in running if not names or dom.name() in names])


def guest_gaps(guests: GuestAsk | None, reason: str) -> dict[str, Any]:
    """The guest parts' gaps when libvirt cannot be asked at all."""
    if guests is None:
        return {}
    return {"missing": [{"fact": fact, "reason": reason} for fact in ("virt", *(("guests",) if guests.source else ()))]}


def add_libvirt(
    record: dict[str, Any], facts: dict[str, Any] | None, reason: str | None, parts: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The far side's record with libvirt's part filled in (or its gap named), and the guest
    parts when asked: qemu.conf's shared_filesystems comes from the far side's record."""
    hypervisor = record["identity"]["hypervisor"]
    hypervisor["libvirt"] = facts
    if facts and facts["kvm"]:
        hypervisor["kinds"] = ["kvm", *hypervisor["kinds"]]
    if reason:
        record["missing"].append({"fact": "libvirt", "reason": reason})
    parts = parts or {}
    if "virt" in parts:
        virt = parts["virt"]
        if virt is not None:
            virt["shared_filesystems"] = shared_filesystems(virt.pop("version"), record["config"]["qemu_conf"])
        record["virt"] = virt
    if "guests" in parts:
        record["guests"] = parts["guests"]
    record["missing"] += [gap for gap in parts.get("missing", []) if gap["fact"] != "libvirt"]
    return record
