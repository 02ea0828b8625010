"""A sandbox of two to four real KVM hypervisors on one Linux machine, for migdoctor's own tests.

Network namespaces `hosta`, `hostb` (`--hosts 3`, `4`: also `hostc`, `hostd`; zone lab.test),
each with its own hostname, /etc/hosts, resolver, /etc/libvirt, nftables ruleset, libvirtd and
sshd, joined by a shaped LAN, a shaped fast migration network (point to point for two hosts,
through a switch for more) and a management bridge with a real DNS server on it. Scenarios
(scenarios/*.toml) decide how the hosts are configured.
"""

from migdoctor.lab.errors import LabError
from migdoctor.lab.layout import HOSTS, STATE_DIR
from migdoctor.lab.lifecycle import (
    down,
    exec_prefix,
    exists,
    is_up,
    local_libvirt_uri,
    reload,
    status,
    up,
)

__all__ = [
    "HOSTS",
    "STATE_DIR",
    "LabError",
    "down",
    "exec_prefix",
    "exists",
    "is_up",
    "local_libvirt_uri",
    "reload",
    "status",
    "up",
]
