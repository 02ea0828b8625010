"""Who the host is: names, OS, and the hypervisor it runs (via libvirt) or is configured for."""

from __future__ import annotations

import os
import socket
from typing import Any
from xml.etree import ElementTree

from migdoctor.facts.gaps import Gaps, read_text
from migdoctor.parsers.os_release import parse_os_release

LIBVIRT_URI = "qemu:///system"
XEN_CONFIGS = ("/etc/xen/xend-config.sxp", "/etc/xen/xl.conf")


def dotted_version(number: int) -> str:
    """libvirt encodes versions as major * 1,000,000 + minor * 1,000 + release."""
    return f"{number // 1_000_000}.{number // 1_000 % 1_000}.{number % 1_000}"


def advertised_hostname(hostname: str) -> str:
    """The name libvirt offers for incoming migrations when migration_host is unset
    (virGetHostname: the hostname if it has a dot, else its canonical name from getaddrinfo)."""
    if "." in hostname:
        return hostname
    try:
        infos = socket.getaddrinfo(hostname, None, flags=socket.AI_CANONNAME)
    except socket.gaierror:
        return hostname
    return infos[0][3] or hostname


def offers_kvm(capabilities_xml: str) -> bool:
    """Whether libvirt's capabilities list a guest domain type 'kvm' (a read-only connection
    may not ask for domain capabilities)."""
    root = ElementTree.fromstring(capabilities_xml)
    return any(domain.get("type") == "kvm" for domain in root.iter("domain"))


def libvirt_facts() -> dict[str, Any]:
    import libvirt

    libvirt.registerErrorHandler(lambda _ctx, _err: None, None)
    conn = libvirt.openReadOnly(LIBVIRT_URI)
    try:
        return {
            "uri": LIBVIRT_URI,
            "version": dotted_version(conn.getLibVersion()),
            "hypervisor_version": dotted_version(conn.getVersion()),
            "hostname": conn.getHostname(),
            "kvm": offers_kvm(conn.getCapabilities()),
        }
    finally:
        conn.close()


def collect_identity(gaps: Gaps) -> dict[str, Any]:
    hostname = socket.gethostname()
    os_release = gaps.attempt("os", lambda: parse_os_release(read_text("/etc/os-release")))
    libvirt_info = gaps.attempt("libvirt", libvirt_facts)
    xen_configs = [path for path in XEN_CONFIGS if os.path.exists(path)]
    kinds = (["kvm"] if libvirt_info and libvirt_info["kvm"] else []) + (["xen"] if xen_configs else [])
    return {
        "hostname": hostname,
        "fqdn": advertised_hostname(hostname),
        "os": os_release,
        "kernel": os.uname().release,
        "hypervisor": {
            "kinds": kinds,
            "kvm_device": os.path.exists("/dev/kvm"),
            "libvirt": libvirt_info,
            "xen_configs": xen_configs,
        },
    }
