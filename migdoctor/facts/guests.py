"""What libvirt knows about a host's guests and what it offers them, asked through the host's
libvirt URI (a read-write connection, as domain capabilities and CPU comparison need, making
read-only calls only): the source's running guests (`guests`), every host's virtualisation
resources (`virt`), and the look-ups of a pair (the guest's CPU compared on the destination, the
baseline CPU of both hosts). Each part that fails is a gap naming it, never a crash."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any
from xml.etree import ElementTree

from migdoctor.facts.gaps import Gaps


@dataclass(frozen=True)
class GuestAsk:
    """What a run asks of a host's guests: NAMES (none: every running guest) when it is a source.
    LATER, when given, takes the reading of the guests' dirty rates as a call to make once the run
    has done its other steps (probes, look-ups): the one-second measurement then runs beside them,
    not before them. Without it the rates are read before the facts are returned."""

    names: tuple[str, ...] = ()
    source: bool = False
    later: list[Callable[[], None]] | None = field(default=None, compare=False)


# libvirt's virDomainBlockJobType, by number.
BLOCK_JOB_TYPES = {0: "unknown", 1: "pull", 2: "copy", 3: "commit", 4: "active-commit", 5: "backup"}
# libvirt's virSecretUsageType, by number.
SECRET_USAGE_TYPES = {0: None, 1: "volume", 2: "ceph", 3: "iscsi", 4: "tls", 5: "vtpm"}
# qemu.conf's shared_filesystems (paths libvirt counts as shared storage whatever their type)
# first appeared in libvirt 10.2.0; an older libvirtd ignores the key.
SHARED_FILESYSTEMS_SINCE = 10_002_000
VIRT_TYPES = ("kvm", "qemu")
# virConnectCompareCPU's results, by number (VIR_CPU_COMPARE_*).
CPU_COMPARE_RESULTS = {-1: "error", 0: "incompatible", 1: "identical", 2: "superset"}


def guest_entry(dom: Any) -> dict[str, Any]:
    """One running guest as the source has it: its migratable XML (what the destination would be
    given), snapshots and block jobs (libvirt refuses to migrate with either), each disk's sizes
    (what --copy-storage-all would copy) and its current memory."""
    import libvirt

    xml = dom.XMLDesc(libvirt.VIR_DOMAIN_XML_MIGRATABLE)
    targets = [
        (disk.find("target").get("dev"), disk.find("source") is not None)  # type: ignore[union-attr]
        for disk in ElementTree.fromstring(xml).iterfind("devices/disk")
        if disk.find("target") is not None
    ]
    jobs = []
    disks = []
    for target, has_source in targets:
        if not has_source:  # an empty CD-ROM drive: no job, no sizes
            continue
        job = dom.blockJobInfo(target, 0)
        if job:
            jobs.append({"disk": target, "type": BLOCK_JOB_TYPES.get(job.get("type", 0), "unknown")})
        capacity, allocation, physical = dom.blockInfo(target)
        sizes = {"allocation_bytes": allocation, "capacity_bytes": capacity, "physical_bytes": physical}
        disks.append({"target": target, **sizes})
    return {
        "name": dom.name(),
        "uuid": dom.UUIDString(),
        "xml": xml,
        "snapshots": dom.snapshotNum(),
        "block_jobs": jobs,
        "disks": disks,
        "memory_kib": dom.info()[2],
    }


def collect_guests(conn: Any, names: Sequence[str], gaps: Gaps) -> list[dict[str, Any]]:
    """The running guests NAMES ask for (none named: every running one), in libvirt's order; a
    named one that is not running here is a gap `guests.NAME`."""
    import libvirt

    running = conn.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_ACTIVE)
    found = {dom.name(): dom for dom in running}
    for name in names:
        if name not in found:
            gaps.add(f"guests.{name}", f"no running guest {name!r} on this host")
    wanted = [dom for dom in running if not names or dom.name() in names]
    entries = []
    for dom in wanted:
        entry = gaps.attempt(f"guests.{dom.name()}", partial(guest_entry, dom))
        if entry is not None:
            entries.append(entry)
    return entries


def domain_capabilities(conn: Any, arch: str) -> dict[str, str | None]:
    """The domain capabilities for each virtualisation type; None where libvirt refuses (no KVM)."""
    import libvirt

    found: dict[str, str | None] = {}
    for virt_type in VIRT_TYPES:
        try:
            found[virt_type] = conn.getDomainCapabilities(None, arch, None, virt_type, 0)
        except libvirt.libvirtError:
            found[virt_type] = None
    return found


def free_hugepages(conn: Any, capabilities: ElementTree.Element) -> dict[str, int]:
    """Free pages of each huge page size the host offers, summed over its NUMA cells."""
    sizes = sorted({int(page.get("size", "0")) for page in capabilities.iterfind("host/cpu/pages")})
    huge = sizes[1:]  # the smallest is the base page
    if not huge:
        return {}
    cells = capabilities.find("host/topology/cells")
    count = int(cells.get("num", "1")) if cells is not None else 1
    free: dict[str, int] = {str(size): 0 for size in huge}
    for per_size in conn.getFreePages(huge, 0, count).values():
        for size, pages in per_size.items():
            free[str(size)] += pages
    return free


def network_entry(network: Any) -> dict[str, Any]:
    root = ElementTree.fromstring(network.XMLDesc(0))
    bridge = root.find("bridge")
    return {
        "name": network.name(),
        "active": bool(network.isActive()),
        "bridge": bridge.get("name") if bridge is not None else None,
        "portgroups": [group.get("name", "") for group in root.iterfind("portgroup")],
    }


def pool_entry(pool: Any) -> dict[str, Any]:
    """A storage pool: a copied disk (--copy-storage-all) is created on the destination only in a
    pool whose target is the disk's directory, unless its file is there already."""
    root = ElementTree.fromstring(pool.XMLDesc(0))
    return {
        "name": pool.name(),
        "active": bool(pool.isActive()),
        "type": root.get("type", ""),
        "target": root.findtext("target/path"),
    }


def secret_entry(secret: Any) -> dict[str, Any]:
    return {
        "uuid": secret.UUIDString(),
        "usage_type": SECRET_USAGE_TYPES.get(secret.usageType()),
        "usage_id": secret.usageID(),
    }


def shared_filesystems(version: int, qemu_conf: dict[str, Any] | None) -> list[str] | None:
    """qemu.conf's shared_filesystems where this libvirtd reads the key (none set: []); None
    where it is older and ignores the key."""
    if version < SHARED_FILESYSTEMS_SINCE:
        return None
    values = (qemu_conf or {}).get("values") or {}
    paths = values.get("shared_filesystems") or []
    return [str(path) for path in paths] if isinstance(paths, list) else [str(paths)]


def collect_virt(conn: Any, gaps: Gaps) -> dict[str, Any] | None:
    """What this host offers a guest coming in; None (and the gap `virt`) when libvirt cannot say.
    `version` (libvirt's, encoded) stands for shared_filesystems until qemu.conf is read
    (libvirt.add_libvirt)."""

    def virt() -> dict[str, Any]:
        capabilities_xml = conn.getCapabilities()
        capabilities = ElementTree.fromstring(capabilities_xml)
        arch = capabilities.findtext("host/cpu/arch") or "x86_64"
        return {
            "capabilities_xml": capabilities_xml,
            "domain_capabilities": domain_capabilities(conn, arch),
            "free_memory_bytes": conn.getFreeMemory(),
            "hugepages_free": free_hugepages(conn, capabilities),
            "networks": [network_entry(network) for network in conn.listAllNetworks()],
            "secrets": [secret_entry(secret) for secret in conn.listAllSecrets()],
            "storage_pools": [pool_entry(pool) for pool in conn.listAllStoragePools()],
            "version": conn.getLibVersion(),
        }

    return gaps.attempt("virt", virt)


def guest_cpu(xml: str) -> tuple[str | None, ElementTree.Element | None, str]:
    """(the CPU mode, the <cpu> element, the domain's virtualisation type) of a guest's XML;
    no <cpu> is libvirt's default, a custom model QEMU picks."""
    root = ElementTree.fromstring(xml)
    cpu = root.find("cpu")
    mode = None if cpu is None else cpu.get("mode", "custom")
    return mode, cpu, root.get("type", "kvm")


def cpu_identity(xml: str) -> tuple[str, str, str]:
    """What a CPU comparison of a guest depends on: (virtualisation type, architecture, <cpu>)."""
    _, cpu, virt_type = guest_cpu(xml)
    os_type = ElementTree.fromstring(xml).find("os/type")
    arch = os_type.get("arch", "") if os_type is not None else ""
    return virt_type, arch, "" if cpu is None else ElementTree.tostring(cpu, "unicode")


def compare_cpu(conn: Any, guest_xml: str) -> dict[str, Any]:
    """The guest's migratable CPU compared on the destination (virConnectCompareHypervisorCPU,
    failing on incompatibility so libvirt's message names the missing features), as libvirt
    itself would judge it when the destination starts the guest: a host-passthrough or maximum
    CPU is the destination's own, so only the mode is asked of its domain capabilities; a custom
    CPU with check='none' is not checked by libvirt at all (QEMU starts it with what the host
    offers), so the comparison's words are kept but its result is "not-compared"."""
    import libvirt

    mode, cpu, virt_type = guest_cpu(guest_xml)
    os_type = ElementTree.fromstring(guest_xml).find("os/type")
    arch = os_type.get("arch") if os_type is not None else None
    if mode in ("host-passthrough", "maximum"):
        return offers_mode(conn, mode, arch, virt_type)
    if cpu is None or cpu.find("model") is None:
        return cpu_result("not-compared", "the guest names no CPU model: QEMU's default model is used")
    flags = libvirt.VIR_CONNECT_COMPARE_CPU_FAIL_INCOMPATIBLE
    try:
        result = conn.compareHypervisorCPU(None, arch, None, virt_type, ElementTree.tostring(cpu, "unicode"), flags)
        found = cpu_result(CPU_COMPARE_RESULTS.get(result, "error"), None)
    except libvirt.libvirtError as exc:
        incompatible = exc.get_error_code() == libvirt.VIR_ERR_CPU_INCOMPATIBLE
        found = cpu_result("incompatible" if incompatible else "error", exc.get_error_message())
    if cpu.get("check") == "none" and found["result"] != "error":
        said = f"; compared anyway: {found['message'] or found['result']}"
        return cpu_result("not-compared", f"libvirt does not check a CPU with check='none'{said}")
    return found


def offers_mode(conn: Any, mode: str, arch: str | None, virt_type: str) -> dict[str, Any]:
    """Whether the destination's domain capabilities for VIRT_TYPE support CPU MODE."""
    import libvirt

    try:
        capabilities = ElementTree.fromstring(conn.getDomainCapabilities(None, arch, None, virt_type, 0))
    except libvirt.libvirtError as exc:
        return cpu_result("error", exc.get_error_message())
    offered = capabilities.find(f"cpu/mode[@name='{mode}']")
    if offered is None or offered.get("supported") != "yes":
        return cpu_result(
            "incompatible", f"the destination's {virt_type} domain capabilities do not support CPU mode {mode}"
        )
    return cpu_result("not-compared", f"a {mode} CPU is the destination's own: libvirt compares nothing")


def cpu_result(result: str, message: str | None, baseline_xml: str | None = None) -> dict[str, Any]:
    return {"result": result, "message": message, "baseline_xml": baseline_xml}


def host_model_cpu(domain_capabilities_xml: str) -> str | None:
    """The host-model CPU of a host's domain capabilities as a <cpu> (what virsh
    hypervisor-cpu-baseline takes from them): the CPU the hypervisor can give a guest there,
    unlike the capabilities' host CPU, which is what the kernel sees and may differ under KVM."""
    mode = ElementTree.fromstring(domain_capabilities_xml).find("cpu/mode[@name='host-model']")
    if mode is None or mode.get("supported") != "yes" or mode.find("model") is None:
        return None
    cpu = ElementTree.Element("cpu")
    cpu.extend(mode)
    return ElementTree.tostring(cpu, "unicode")


def baseline_cpu(conn: Any, domain_capabilities: Sequence[str | None], virt_type: str) -> str | None:
    """The most capable CPU every host of DOMAIN_CAPABILITIES (each one's, for VIRT_TYPE) can give
    a guest (virConnectBaselineHypervisorCPU over their host-model CPUs): a guest with this model
    migrates between them either way. None when a host has none or libvirt cannot work it out."""
    import libvirt

    cpus = [host_model_cpu(xml) if xml else None for xml in domain_capabilities]
    if not cpus or None in cpus:
        return None
    try:
        baseline: str = conn.baselineHypervisorCPU(None, None, None, virt_type, cpus, 0)
    except libvirt.libvirtError:
        return None
    return baseline
