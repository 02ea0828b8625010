"""Who the host is: names, OS, and the hypervisor it is configured for (libvirt's part is asked
from the control node: migdoctor/facts/libvirt.py)."""

from __future__ import annotations

import os
import socket
from typing import Any

from migdoctor.facts.gaps import Gaps, read_text
from migdoctor.parsers.os_release import parse_os_release

XEN_CONFIGS = ("/etc/xen/xend-config.sxp", "/etc/xen/xl.conf")


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


def collect_identity(gaps: Gaps) -> dict[str, Any]:
    hostname = socket.gethostname()
    os_release = gaps.attempt("os", lambda: parse_os_release(read_text("/etc/os-release")))
    xen_configs = [path for path in XEN_CONFIGS if os.path.exists(path)]
    return {
        "hostname": hostname,
        "fqdn": advertised_hostname(hostname),
        "os": os_release,
        "kernel": os.uname().release,
        "hypervisor": {
            "kinds": ["xen"] if xen_configs else [],  # the control node adds kvm from libvirt
            "kvm_device": os.path.exists("/dev/kvm"),
            "libvirt": None,  # asked by the control node: migdoctor/facts/libvirt.py
            "xen_configs": xen_configs,
        },
    }
