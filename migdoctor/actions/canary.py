"""A cheap guest whose live migration moves real data: the test migration's canary.

An idle guest's RAM is zero pages, which QEMU sends as markers (128 MiB migrates as ~0.7 MB),
so part of the canary's RAM is loaded with random bytes from a payload file. The file is made
at run time and is read by the source qemu at start AND by the destination qemu, which is
started with the same command line on incoming migration: it must exist at the same path on
both hosts (the far side writes it on each: migdoctor/farside/canary.py).

Migration must start only once the firmware has stopped rearranging guest memory: under KVM
each such change recreates memory slots that start all-dirty, and QEMU then sends the whole RAM
again (measured: 135 MB instead of 68 MB, 10 s of downtime). SeaBIOS takes ~3.5 s here to
settle, qboot ~0.1 s, so the canary boots qboot when it is installed and `start` waits until
the vCPU idles.
"""

import time
from html import escape  # not xml.sax.saxutils: it imports urllib.request, http.client and ssl (~20 ms)
from importlib import resources
from pathlib import Path
from string import Template
from typing import Any

from migdoctor.farside.canary import MIB


class CanaryError(ValueError):
    """The canary cannot be made as asked; one line."""


NAME = "migdoctor-canary"
MEMORY_MIB = 128
PAYLOAD_MIB = 64
PAYLOAD_ADDR = 0x2000000  # 32 MiB: clear of SeaBIOS and the low-memory areas it uses
QBOOT = Path("/usr/share/qemu/qboot.rom")


def virt_type(conn: Any) -> str:
    """`kvm` when the host's libvirt can run KVM guests, else `qemu` (TCG)."""
    import libvirt

    try:
        conn.getDomainCapabilities(virttype="kvm")
    except libvirt.libvirtError:
        return "qemu"
    return "kvm"


def domain_xml(
    name: str = NAME,
    memory_mib: int = MEMORY_MIB,
    payload: Path | None = None,
    kind: str = "kvm",
    payload_addr: int = PAYLOAD_ADDR,
) -> str:
    """Domain XML for a diskless canary, with `payload` loaded into RAM at `payload_addr`."""
    commandline = ""
    if payload is not None:
        if payload_addr + payload.stat().st_size > memory_mib * MIB:
            raise CanaryError(
                f"canary payload {payload} does not fit in {memory_mib} MiB of RAM above {payload_addr:#x}"
            )
        qemu_path = str(payload).replace(",", ",,")  # qemu's option syntax escapes commas
        device = f"loader,file={qemu_path},addr={payload_addr:#x},force-raw=on"
        commandline = (
            "  <qemu:commandline>\n    <qemu:arg value='-device'/>\n"
            f"    <qemu:arg value='{escape(device)}'/>\n"
            "  </qemu:commandline>\n"
        )
    # No boot device: qboot halts at once; SeaBIOS must at least not reboot after 60 s.
    firmware = f"<loader type='rom'>{escape(str(QBOOT))}</loader>" if QBOOT.is_file() else "<bios rebootTimeout='-1'/>"
    template = Template((resources.files("migdoctor.actions") / "canary.xml").read_text())
    return template.substitute(
        virt_type=kind, name=escape(name), memory_mib=int(memory_mib), firmware=firmware, commandline=commandline
    )


def start(
    conn: Any, payload: Path | None, name: str = NAME, memory_mib: int = MEMORY_MIB, settle_timeout: float = 15.0
) -> Any:
    """Start a transient canary on `conn` (payload None: no payload), ready to migrate."""
    dom = conn.createXML(domain_xml(name, memory_mib, payload, virt_type(conn)), 0)
    settle(dom, settle_timeout)
    return dom


def settle(dom: Any, timeout: float = 15.0, interval: float = 0.05) -> None:
    """Wait until the guest's vCPU idles: its firmware is done and memory stays put."""
    deadline = time.monotonic() + timeout
    quiet, last = 0, dom.info()[4]
    while quiet < 2:
        if time.monotonic() > deadline:
            raise CanaryError(f"canary {dom.name()} still busy after {timeout:.0f} s")
        time.sleep(interval)
        now = dom.info()[4]
        quiet = quiet + 1 if now - last < interval * 1e9 / 5 else 0
        last = now


def remove(conn: Any, name: str = NAME) -> None:
    """Destroy and undefine the canary on `conn` if it is there; quiet when libvirt says there is
    no such domain. Any other libvirt error (a dead connection, a daemon gone) is raised: only the
    caller can tell whether the canary is still running then."""
    import libvirt

    try:
        dom = conn.lookupByName(name)
        persistent = dom.isPersistent()  # a transient domain is gone once destroyed
        if dom.isActive():
            dom.destroy()
        if persistent:
            dom.undefine()
    except libvirt.libvirtError as exc:
        if exc.get_error_code() != libvirt.VIR_ERR_NO_DOMAIN:
            raise
