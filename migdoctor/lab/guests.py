"""The guests a scenario runs (its `[guests.NAME]` tables): started once the hosts are up, gone
with the lab (`down` kills every qemu by its pid file and removes the state directory, disk
images included). Each is the canary's cheap diskless guest (actions/canary.xml) with what the
scenario adds: a tiny raw disk in the shared or the host's own directory, an interface on a
bridge, a CPU mode. Nothing is downloaded: a disk is a file of zeros the firmware cannot boot."""

import os
from pathlib import Path
from xml.etree import ElementTree

from migdoctor.actions import canary
from migdoctor.lab import daemons, layout
from migdoctor.lab.errors import LabError
from migdoctor.lab.scenario import GuestSpec, Scenario

DISK_MIB = 16
WRITTEN_MIB = 1  # allocated, so a copy of the disk has bytes to move


def start(scn: Scenario) -> None:
    """Every guest of SCN on its host, in the scenario's order; the first refusal names the guest."""
    if not scn.guests:
        return
    for h in scn.lab_hosts:  # where a local disk would be copied to, on every host
        (h.dir / layout.LOCAL_GUEST_DIR[0]).mkdir(parents=True, exist_ok=True)
    for spec in scn.guests:
        conn = daemons.open_libvirt(daemons.local_uri(layout.host(spec.host)))
        try:
            disk = make_disk(spec)
            conn.createXML(guest_xml(spec, canary.virt_type(conn), disk), 0)
        except Exception as exc:  # libvirt's error, said for this guest
            raise LabError(f"guest {spec.name} on {spec.host}: {exc}") from None
        finally:
            conn.close()


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
    """The canary's domain XML (no payload) with SPEC's disk, interface and CPU."""
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
    return ElementTree.tostring(root, "unicode")
