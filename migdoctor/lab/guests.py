"""The guests a scenario runs (its `[guests.NAME]` tables): started once the hosts are up, gone
with the lab (`down` kills every qemu by its pid file and removes the state directory, disk
images included). Each is the canary's cheap diskless guest (actions/canary.xml) with what the
scenario adds: a tiny raw disk in the shared or the host's own directory, an interface on a
bridge, a CPU mode, or a payload dirtying its memory at a set rate: dirtier.s, a multiboot kernel
(libvirt's <os><kernel>, QEMU's -kernel) assembled here at `lab up` with GNU as and ld. Nothing
is downloaded: a disk is a file of zeros the firmware cannot boot."""

import os
import subprocess
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

from migdoctor.actions import canary
from migdoctor.lab import daemons, layout
from migdoctor.lab.errors import LabError
from migdoctor.lab.scenario import GuestSpec, Scenario

DISK_MIB = 16
WRITTEN_MIB = 1  # allocated, so a copy of the disk has bytes to move
PAYLOAD = layout.STATE_DIR / "dirtier.elf"  # seen by every host: qemu reads it on both ends
PAGE = 4096
WORK_BASE_MIB = 16  # where dirtier.s starts its working set
READY = (0xFF0000, 0x59444552)  # dirtier.s's READY address and magic word, written once it is in use
SETTLE_TIMEOUT_S = 30.0  # three dirtying guests booting at once on a busy two-core machine: ~3 s


def start(scn: Scenario) -> None:
    """Every guest of SCN on its host, in the scenario's order; the first refusal names the guest."""
    if not scn.guests:
        return
    for h in scn.lab_hosts:  # where a local disk would be copied to, on every host
        (h.dir / layout.LOCAL_GUEST_DIR[0]).mkdir(parents=True, exist_ok=True)
    run(scn.guests)


def run(specs: Iterable[GuestSpec]) -> None:
    """Start each guest of SPECS and wait until the dirtying ones dirty memory at their rate."""
    booting = []
    for spec in specs:
        if spec.dirty_mib_s is not None and not PAYLOAD.exists():
            build_payload()
        conn = daemons.open_libvirt(daemons.local_uri(layout.host(spec.host)))
        try:
            disk = make_disk(spec)
            dom = conn.createXML(guest_xml(spec, canary.virt_type(conn), disk), 0)
        except Exception as exc:  # libvirt's error, said for this guest
            conn.close()
            raise LabError(f"guest {spec.name} on {spec.host}: {exc}") from None
        if spec.dirty_mib_s is None:
            conn.close()
        else:
            booting.append((spec, conn, dom))
    for spec, conn, dom in booting:
        try:
            wait_dirtying(spec, dom)
        finally:
            conn.close()


def wait_dirtying(spec: GuestSpec, dom: Any) -> None:
    """Until the payload says its whole working set is in use (its READY word, read with
    virDomainMemoryPeek): from then on the guest dirties memory at its rate alone."""
    import libvirt

    address, magic = READY
    deadline = time.monotonic() + SETTLE_TIMEOUT_S
    while int.from_bytes(dom.memoryPeek(address, 4, libvirt.VIR_MEMORY_PHYSICAL), "little") != magic:
        if time.monotonic() > deadline:
            raise LabError(f"guest {spec.name} on {spec.host}: its payload did not start in {SETTLE_TIMEOUT_S:.0f} s")
        time.sleep(0.1)


def build_payload() -> Path:
    """Assemble dirtier.s into PAYLOAD: a 32-bit ELF with a multiboot header, as QEMU loads it."""
    source = Path(__file__).with_name("dirtier.s")
    obj = PAYLOAD.with_suffix(".o")
    for argv in (
        ["as", "--32", "-o", str(obj), str(source)],
        ["ld", "-m", "elf_i386", "-Ttext=0x100000", "-o", str(PAYLOAD), str(obj)],
    ):
        try:
            done = subprocess.run(argv, capture_output=True, text=True, timeout=30)
        except FileNotFoundError:
            raise LabError(f"{argv[0]} (binutils) is missing: run scripts/setup.sh") from None
        if done.returncode:
            raise LabError(f"building the guest payload: {' '.join(argv)}: {done.stderr.strip()}")
    obj.unlink()
    return PAYLOAD


def working_set_pages(spec: GuestSpec) -> int:
    room = spec.memory_mib - 2 * WORK_BASE_MIB
    return (min(spec.working_set_mib, room) if spec.working_set_mib else room) * canary.MIB // PAGE


def dirtier_cmdline(spec: GuestSpec) -> str:
    """The payload's command line: pages to write each second, pages in its working set."""
    pages_per_s = round((spec.dirty_mib_s or 0) * canary.MIB / PAGE)
    return f"dirty_pages_per_s={pages_per_s} working_set_pages={working_set_pages(spec)}"


def disk_paths(spec: GuestSpec) -> tuple[Path, str] | None:
    """(where the machine writes SPEC's image, the path its host sees), or None: diskless."""
    if spec.disk is None:
        return None
    name = f"{spec.name}.img"
    if spec.disk == "shared":
        return layout.STATE_DIR / layout.SHARED_GUEST_DIR[0] / name, f"{layout.SHARED_GUEST_DIR[1]}/{name}"
    return layout.host(spec.host).dir / layout.LOCAL_GUEST_DIR[0] / name, f"{layout.LOCAL_GUEST_DIR[1]}/{name}"


def make_disk(spec: GuestSpec) -> str | None:
    """SPEC's raw image (DISK_MIB, its first WRITTEN_MIB written); the path the guest's host sees."""
    paths = disk_paths(spec)
    if paths is None:
        return None
    image, seen_as = paths
    image.parent.mkdir(parents=True, exist_ok=True)
    with open(image, "wb") as out:
        out.write(bytes(WRITTEN_MIB * canary.MIB))
        out.truncate(DISK_MIB * canary.MIB)
        os.fsync(out.fileno())
    return seen_as


def guest_xml(spec: GuestSpec, virt_type: str, disk: str | None) -> str:
    """The canary's domain XML (no payload) with SPEC's disk, interface, CPU and dirtying kernel."""
    root = ElementTree.fromstring(canary.domain_xml(spec.name, spec.memory_mib, None, virt_type))
    devices = root.find("devices")
    assert devices is not None
    if disk is not None:
        element = ElementTree.SubElement(devices, "disk", type="file", device="disk")
        driver = {"name": "qemu", "type": "raw"} | ({"cache": spec.cache} if spec.cache else {})
        ElementTree.SubElement(element, "driver", driver)
        ElementTree.SubElement(element, "source", file=disk)
        ElementTree.SubElement(element, "target", dev="vda", bus="virtio")
    if spec.bridge is not None:
        interface = ElementTree.SubElement(devices, "interface", type="bridge")
        ElementTree.SubElement(interface, "source", bridge=spec.bridge)
        ElementTree.SubElement(interface, "model", type="virtio")
    if spec.cpu is not None:
        cpu = ElementTree.Element("cpu", mode=spec.cpu)
        root.insert(list(root).index(devices), cpu)
    if spec.dirty_mib_s is not None:  # SeaBIOS boots the kernel; qboot's ROM would replace it
        os_element = root.find("os")
        assert os_element is not None
        for firmware in os_element.findall("loader") + os_element.findall("bios"):
            os_element.remove(firmware)
        ElementTree.SubElement(os_element, "kernel").text = str(PAYLOAD)
        ElementTree.SubElement(os_element, "cmdline").text = dirtier_cmdline(spec)
        ElementTree.SubElement(root, "on_reboot").text = "destroy"  # a payload fault stops the guest
    return ElementTree.tostring(root, "unicode")
