"""What only libvirt knows about a host (the name it offers for incoming migrations, libvirt and
QEMU versions, KVM, its domains), asked from the control node through the host's libvirt URI:
libvirt's own remote protocol, the path the migration is driven through, so the host needs no
libvirt-python."""

from __future__ import annotations

from typing import Any
from xml.etree import ElementTree


def dotted_version(number: int) -> str:
    """libvirt encodes versions as major * 1,000,000 + minor * 1,000 + release."""
    return f"{number // 1_000_000}.{number // 1_000 % 1_000}.{number % 1_000}"


def offers_kvm(capabilities_xml: str) -> bool:
    """Whether libvirt's capabilities list a guest domain type 'kvm' (a read-only connection
    may not ask for domain capabilities)."""
    root = ElementTree.fromstring(capabilities_xml)
    return any(domain.get("type") == "kvm" for domain in root.iter("domain"))


def libvirt_facts(uri: str | None, route: str | None = None) -> tuple[dict[str, Any] | None, str | None]:
    """(facts, None), or (None, why not): a URI that cannot be opened is a gap with libvirt's error.
    ROUTE, when given, is what is opened to reach URI (the same host through a connection already
    made); facts and errors name URI."""
    if not uri:
        return None, "no libvirt URI for this host (set libvirt_uri in the inventory)"
    import libvirt

    libvirt.registerErrorHandler(lambda _ctx, _err: None, None)
    try:
        conn = libvirt.openReadOnly(route or uri)
    except libvirt.libvirtError as exc:
        return None, f"cannot open {uri}: {exc.get_error_message()}"
    try:
        return {
            "uri": uri,
            "version": dotted_version(conn.getLibVersion()),
            "hypervisor_version": dotted_version(conn.getVersion()),
            "hostname": conn.getHostname(),
            "kvm": offers_kvm(conn.getCapabilities()),
            "domains": [{"name": dom.name(), "active": bool(dom.isActive())} for dom in conn.listAllDomains()],
        }, None
    except libvirt.libvirtError as exc:
        return None, f"{uri}: {exc.get_error_message()}"
    finally:
        conn.close()


def add_libvirt(record: dict[str, Any], facts: dict[str, Any] | None, reason: str | None) -> dict[str, Any]:
    """The far side's record with libvirt's part filled in (or its gap named)."""
    hypervisor = record["identity"]["hypervisor"]
    hypervisor["libvirt"] = facts
    if facts and facts["kvm"]:
        hypervisor["kinds"] = ["kvm", *hypervisor["kinds"]]
    if reason:
        record["missing"].append({"fact": "libvirt", "reason": reason})
    return record
