"""A guest's migratable domain XML (virDomainGetXMLDesc with VIR_DOMAIN_XML_MIGRATABLE) read into
the few facts a migration depends on: what libvirt's own refusal rules, the destination's
resources and the storage and network checks look at. Pure: text in, frozen data out."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from functools import lru_cache

# libvirt's memory units (docs/formatdomain: "memory allocation"): a bare number is KiB.
UNIT_BYTES = {
    "b": 1,
    "bytes": 1,
    "kb": 1000,
    "k": 1024,
    "kib": 1024,
    "mb": 1000**2,
    "m": 1024**2,
    "mib": 1024**2,
    "gb": 1000**3,
    "g": 1024**3,
    "gib": 1024**3,
    "tb": 1000**4,
    "t": 1024**4,
    "tib": 1024**4,
}


class DomainXMLError(ValueError):
    """Domain XML libvirt would not have written: not XML, or a value of the wrong kind."""


def kib(value: str | None, unit: str | None) -> int | None:
    """VALUE in UNIT (libvirt's names, KiB when none) as KiB, rounded down; None when absent."""
    if value is None:
        return None
    factor = UNIT_BYTES.get((unit or "KiB").lower())
    if factor is None:
        raise DomainXMLError(f"memory unit {unit!r} is not one libvirt knows")
    try:
        number = int(value.strip())
    except ValueError:
        raise DomainXMLError(f"memory size {value!r} is not a whole number") from None
    if number < 0:
        raise DomainXMLError(f"memory size {value!r} is negative")
    return number * factor // 1024


@dataclass(frozen=True)
class CpuFeature:
    name: str
    policy: str  # force, require, optional, disable, forbid


@dataclass(frozen=True)
class Cpu:
    mode: str  # custom, host-model, host-passthrough, maximum
    model: str | None
    features: tuple[CpuFeature, ...]

    @property
    def required(self) -> tuple[str, ...]:
        """Features the guest asks the host to provide (policy force or require)."""
        return tuple(f.name for f in self.features if f.policy in ("force", "require"))

    @property
    def invtsc(self) -> bool:
        """virCPUCheckFeature(..., "invtsc") == 1: no named x86 model includes invtsc, so only an
        explicit force/require turns it on."""
        return "invtsc" in self.required


@dataclass(frozen=True)
class Disk:
    type: str  # file, block, network, volume, dir, nvme, vhostuser, vhostvdpa
    device: str  # disk, cdrom, floppy, lun
    target: str
    path: str | None  # file, dev or dir
    protocol: str | None  # network disks: rbd, iscsi, nbd, gluster, ...
    name: str | None  # network disks: the image's name on its server
    pool: str | None
    volume: str | None
    cache: str | None  # driver cache: none, writethrough, writeback, directsync, unsafe, default
    format: str | None  # driver type: raw, qcow2, ...
    io: str | None
    shareable: bool
    readonly: bool
    transient: bool
    secrets: tuple[str, ...]  # UUIDs of <secret uuid=...> (encryption, auth)
    secret_usages: tuple[tuple[str, str], ...]  # (type, usage) of <secret usage=...>

    @property
    def empty(self) -> bool:
        """No source at all (an empty CD-ROM): virStorageSourceIsEmpty."""
        return self.path is None and self.name is None and self.volume is None and self.type != "nvme"

    @property
    def where(self) -> str:
        """The disk's source as an admin names it."""
        if self.type == "network":
            return f"{self.protocol or 'network'}:{self.name or ''}"
        if self.type == "volume":
            return f"volume {self.pool}/{self.volume}"
        return self.path or "(no source)"


@dataclass(frozen=True)
class Interface:
    type: str  # network, bridge, direct, hostdev, vdpa, user, ethernet, vhostuser, ...
    mac: str | None
    network: str | None
    bridge: str | None
    portgroup: str | None
    dev: str | None  # direct: the host's link; vdpa: the device node
    mtu: int | None
    teaming: str | None  # persistent, transient

    @property
    def source(self) -> str:
        """What the interface connects to, as `virsh domiflist` shows it."""
        return self.network or self.bridge or self.dev or "-"


@dataclass(frozen=True)
class Hostdev:
    mode: str  # subsystem, capabilities
    type: str  # pci, usb, scsi, scsi_host, mdev (subsystem); storage, misc, net (capabilities)
    address: str  # the host's device, as far as the XML names it


@dataclass(frozen=True)
class Filesystem:
    driver: str | None  # virtiofs, path, handle, loop, nbd, ploop
    source: str | None
    target: str | None


@dataclass(frozen=True)
class Tpm:
    model: str | None
    backend: str  # passthrough, emulator, external
    version: str | None
    secret: str | None  # encryption secret UUID (emulator)
    persistent_state: bool


@dataclass(frozen=True)
class Shmem:
    name: str
    model: str | None  # ivshmem, ivshmem-plain, ivshmem-doorbell
    role: str | None  # master, peer


@dataclass(frozen=True)
class MemoryDevice:
    model: str  # dimm, nvdimm, virtio-pmem, virtio-mem, sgx-epc
    address_type: str | None


@dataclass(frozen=True)
class Domain:
    name: str
    uuid: str | None
    type: str  # kvm, qemu, xen, ...
    arch: str | None
    machine: str | None
    emulator: str | None
    memory_kib: int | None
    current_memory_kib: int | None
    hugepages: tuple[int, ...] | None  # page sizes in KiB; () is <hugepages/>: the host's default size
    memory_source: str | None  # memoryBacking source type: file, anonymous, memfd
    cpu: Cpu | None
    tsc_frequency: int | None  # <clock><timer name='tsc' frequency=...>
    disks: tuple[Disk, ...]
    interfaces: tuple[Interface, ...]
    hostdevs: tuple[Hostdev, ...]
    filesystems: tuple[Filesystem, ...]
    tpms: tuple[Tpm, ...]
    shmems: tuple[Shmem, ...]
    memory_devices: tuple[MemoryDevice, ...]


@lru_cache(maxsize=4096)
def parse_domain(text: str) -> Domain:
    """The domain XML TEXT read; DomainXMLError with one line when it is not a domain. Read once
    per text: a guest is judged at every destination and weighed beside every guest planned
    after it (the result is frozen, shared by its readers)."""
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        raise DomainXMLError(f"domain XML does not parse: {exc}") from None
    if root.tag != "domain":
        raise DomainXMLError(f"the XML's root is <{root.tag}>, not <domain>")
    ostype = root.find("os/type")
    memory, current = root.find("memory"), root.find("currentMemory")
    backing = root.find("memoryBacking")
    devices = root.find("devices")
    if devices is None:
        devices = ET.Element("devices")
    return Domain(
        name=(root.findtext("name") or "").strip(),
        uuid=text_of(root, "uuid"),
        type=root.get("type", ""),
        arch=None if ostype is None else ostype.get("arch"),
        machine=None if ostype is None else ostype.get("machine"),
        emulator=text_of(devices, "emulator"),
        memory_kib=None if memory is None else kib(memory.text, memory.get("unit")),
        current_memory_kib=None if current is None else kib(current.text, current.get("unit")),
        hugepages=hugepages_of(backing),
        memory_source=None if backing is None else attribute(backing, "source", "type"),
        cpu=cpu_of(root.find("cpu")),
        tsc_frequency=tsc_frequency_of(root),
        disks=tuple(disk_of(element) for element in devices.findall("disk")),
        interfaces=tuple(interface_of(element) for element in devices.findall("interface")),
        hostdevs=tuple(hostdev_of(element) for element in devices.findall("hostdev")),
        filesystems=tuple(
            Filesystem(attribute(e, "driver", "type"), source_of(e.find("source")), attribute(e, "target", "dir"))
            for e in devices.findall("filesystem")
        ),
        tpms=tuple(tpm_of(element) for element in devices.findall("tpm")),
        shmems=tuple(
            Shmem(e.get("name", ""), attribute(e, "model", "type"), e.get("role")) for e in devices.findall("shmem")
        ),
        memory_devices=tuple(
            MemoryDevice(e.get("model", ""), attribute(e, "address", "type")) for e in devices.findall("memory")
        ),
    )


def text_of(element: ET.Element, path: str) -> str | None:
    value = element.findtext(path)
    return value.strip() if value and value.strip() else None


def attribute(element: ET.Element, path: str, name: str) -> str | None:
    child = element.find(path)
    return None if child is None else child.get(name)


def source_of(source: ET.Element | None) -> str | None:
    """The path a <source> names, whichever attribute this kind of device uses."""
    if source is None:
        return None
    return next((source.get(key) for key in ("file", "dev", "dir", "name", "path") if source.get(key)), None)


def hugepages_of(backing: ET.Element | None) -> tuple[int, ...] | None:
    pages = None if backing is None else backing.find("hugepages")
    if pages is None:
        return None
    sizes = (kib(page.get("size"), page.get("unit")) for page in pages.findall("page"))
    return tuple(sorted({size for size in sizes if size}))


def cpu_of(cpu: ET.Element | None) -> Cpu | None:
    if cpu is None:
        return None
    features = tuple(
        CpuFeature(feature.get("name", ""), feature.get("policy", "require")) for feature in cpu.findall("feature")
    )
    return Cpu(cpu.get("mode", "custom"), text_of(cpu, "model"), features)


def tsc_frequency_of(root: ET.Element) -> int | None:
    for timer in root.findall("clock/timer"):
        if timer.get("name") == "tsc" and timer.get("frequency"):
            try:
                return int(timer.get("frequency", ""))
            except ValueError:
                raise DomainXMLError(f"TSC frequency {timer.get('frequency')!r} is not a number") from None
    return None


def secrets_of(element: ET.Element) -> tuple[tuple[str, ...], tuple[tuple[str, str], ...]]:
    """The secrets a disk's <encryption> and <auth> name: by UUID, and by (type, usage)."""
    found = [secret for secret in element.iter("secret")]
    return (
        tuple(s.get("uuid", "") for s in found if s.get("uuid")),
        tuple((s.get("type", ""), s.get("usage", "")) for s in found if s.get("usage") and not s.get("uuid")),
    )


def disk_of(disk: ET.Element) -> Disk:
    source = disk.find("source")
    driver = disk.find("driver")
    uuids, usages = secrets_of(disk)
    kind = disk.get("type", "file")
    return Disk(
        type=kind,
        device=disk.get("device", "disk"),
        target=attribute(disk, "target", "dev") or "",
        path=None if source is None or kind == "network" else source_of(source),
        protocol=None if source is None else source.get("protocol"),
        name=None if source is None or kind != "network" else source.get("name"),
        pool=None if source is None else source.get("pool"),
        volume=None if source is None else source.get("volume"),
        cache=None if driver is None else driver.get("cache"),
        format=None if driver is None else driver.get("type"),
        io=None if driver is None else driver.get("io"),
        shareable=disk.find("shareable") is not None,
        readonly=disk.find("readonly") is not None,
        transient=disk.find("transient") is not None,
        secrets=uuids,
        secret_usages=usages,
    )


def interface_of(interface: ET.Element) -> Interface:
    source = interface.find("source")
    mtu = attribute(interface, "mtu", "size")
    get = ({} if source is None else source.attrib).get
    try:
        mtu_value = int(mtu) if mtu else None
    except ValueError:
        raise DomainXMLError(f"interface MTU {mtu!r} is not a number") from None
    return Interface(
        type=interface.get("type", ""),
        mac=attribute(interface, "mac", "address"),
        network=get("network"),
        bridge=get("bridge"),
        portgroup=get("portgroup"),
        dev=get("dev"),
        mtu=mtu_value,
        teaming=attribute(interface, "teaming", "type"),
    )


def hostdev_of(hostdev: ET.Element) -> Hostdev:
    source = hostdev.find("source")
    address = "" if source is None else address_text(source)
    return Hostdev(hostdev.get("mode", "subsystem"), hostdev.get("type", ""), address)


def address_text(source: ET.Element) -> str:
    """The host device a hostdev's <source> names: a PCI address, a USB vendor:product, an mdev UUID."""
    address = source.find("address")
    if address is not None and address.get("bus") is not None and address.get("slot") is not None:
        parts = [address.get(key, "0x0") for key in ("domain", "bus", "slot", "function")]
        try:
            domain, bus, slot, function = (int(part, 16) for part in parts)
        except ValueError:
            return " ".join(parts)
        return f"{domain:04x}:{bus:02x}:{slot:02x}.{function:x}"
    if address is not None and address.get("uuid"):
        return address.get("uuid", "")
    vendor, product = attribute(source, "vendor", "id"), attribute(source, "product", "id")
    if vendor or product:
        return f"{vendor}:{product}"
    return " ".join(f"{key}={value}" for element in source.iter() for key, value in element.attrib.items())


def tpm_of(tpm: ET.Element) -> Tpm:
    backend = tpm.find("backend")
    if backend is None:
        backend = ET.Element("backend")
    return Tpm(
        model=tpm.get("model"),
        backend=backend.get("type", ""),
        version=backend.get("version"),
        secret=attribute(backend, "encryption", "secret"),
        persistent_state=backend.get("persistent_state") == "yes",
    )


@dataclass(frozen=True)
class GuestArch:
    """What a host's QEMU offers for one guest architecture (virConnectGetCapabilities <guest>)."""

    emulators: tuple[str, ...]
    machines: tuple[str, ...]  # names and aliases (pc, q35 beside pc-i440fx-7.2, ...)
    domain_types: tuple[str, ...]  # qemu, kvm


@dataclass(frozen=True)
class HostCpu:
    arch: str | None
    vendor: str | None
    model: str | None
    features: tuple[str, ...]
    signature: str | None  # family/model/stepping
    microcode: str | None


@dataclass(frozen=True)
class Capabilities:
    host_cpu: HostCpu
    archs: dict[str, GuestArch]


@lru_cache(maxsize=1024)
def parse_capabilities(text: str) -> Capabilities:
    """A host's capabilities XML read (once per text: every guest coming in reads it); DomainXMLError
    when it is not."""
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        raise DomainXMLError(f"capabilities XML does not parse: {exc}") from None
    cpu = root.find("host/cpu")
    if cpu is None:
        cpu = ET.Element("cpu")
    signature = cpu.find("signature")
    host_cpu = HostCpu(
        arch=text_of(cpu, "arch"),
        vendor=text_of(cpu, "vendor"),
        model=text_of(cpu, "model"),
        features=tuple(sorted(f.get("name", "") for f in cpu.findall("feature"))),
        signature=None
        if signature is None
        else "/".join(signature.get(k, "?") for k in ("family", "model", "stepping")),
        microcode=attribute(cpu, "microcode", "version"),
    )
    archs: dict[str, GuestArch] = {}
    for guest in root.findall("guest"):
        arch = guest.find("arch")
        if arch is None or guest.findtext("os_type", "").strip() != "hvm":
            continue
        scopes = [arch, *arch.findall("domain")]
        emulators = {e.text.strip() for scope in scopes for e in scope.findall("emulator") if e.text}
        machines = {m.text.strip() for scope in scopes for m in scope.findall("machine") if m.text}
        machines |= {m.get("canonical", "") for scope in scopes for m in scope.findall("machine")} - {""}
        previous = archs.get(arch.get("name", ""), GuestArch((), (), ()))
        archs[arch.get("name", "")] = GuestArch(
            tuple(sorted(emulators | set(previous.emulators))),
            tuple(sorted(machines | set(previous.machines))),
            tuple(sorted({d.get("type", "") for d in arch.findall("domain")} | set(previous.domain_types))),
        )
    return Capabilities(host_cpu, archs)


def cpu_modes(domain_capabilities: str) -> dict[str, ET.Element]:
    """The CPU modes domain capabilities XML offers (`<mode name=... supported='yes'>`), by name."""
    try:
        root = ET.fromstring(domain_capabilities)
    except ET.ParseError as exc:
        raise DomainXMLError(f"domain capabilities XML does not parse: {exc}") from None
    return {m.get("name", ""): m for m in root.findall("cpu/mode") if m.get("supported") == "yes"}


def host_model(domain_capabilities: str) -> HostCpu | None:
    """The CPU the hypervisor can give a guest (domain capabilities' host-model: under KVM it is
    not the capabilities' host CPU, which is the kernel's view), or None when it offers none."""
    mode = cpu_modes(domain_capabilities).get("host-model")
    if mode is None:
        return None
    required = (f.get("name", "") for f in mode.findall("feature") if f.get("policy", "require") == "require")
    return HostCpu(None, text_of(mode, "vendor"), text_of(mode, "model"), tuple(sorted(required)), None, None)
