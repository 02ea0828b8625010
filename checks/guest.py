"""Whether one running guest can move to one destination: what libvirt itself refuses (mirroring
libvirt 9.0's qemuMigrationSrcIsAllowed and qemuMigrationSrcIsSafe in src/qemu/qemu_migration.c,
their error strings quoted as libvirt prints them), and what the destination must have for it:
the CPU, machine type and emulator, the same storage, memory and hugepages, networks, secrets."""

from __future__ import annotations

from typing import Any

from migdoctor.checkapi import Evidence, Outcome, Registry, Skip, failed, passed, skipped, warned
from migdoctor.judging.domain import (
    Capabilities,
    Disk,
    Domain,
    DomainXMLError,
    cpu_modes,
    host_model,
    parse_capabilities,
    parse_domain,
)
from migdoctor.judging.guest import GuestCase
from migdoctor.units import human_bytes

registry = Registry(order=130)

LIBVIRT = "libvirt 9.0"
UNSAFE_STORAGE = "Unsafe migration: Migration without shared storage is unsafe"
UNSAFE_CACHE = (
    "Unsafe migration: Migration may lead to data corruption if disks use cache other than none or directsync"
)
# virFileIsSharedFS in libvirt 9.0's src/util/virfile.c, by the names statfs types and FUSE mounts
# go by: NFS, GFS2, OCFS2, AFS, SMB, CIFS, Ceph, GPFS, Quobyte, ACFS, GlusterFS (FUSE).
SHARED_FILESYSTEMS = frozenset(
    {"nfs", "nfs4", "gfs2", "ocfs2", "afs", "smb", "smb3", "cifs", "ceph", "gpfs", "quobyte", "fuse.quobyte"}
    | {"acfs", "fuse.glusterfs"}
)
# virFileIsClusterFS: coherent cluster filesystems, safe with any cache mode (9.0 reads a
# glusterfs FUSE mount as GFS2).
CLUSTER_FILESYSTEMS = frozenset({"gfs2", "ocfs2", "fuse.glusterfs"})
SAFE_CACHE_MODES = ("none", "directsync")
# QEMU drops the page cache of file-backed disks on migration since 4.0 (blockdev file driver's
# drop-cache): libvirt then allows any cache mode (QEMU_CAPS_MIGRATION_FILE_DROP_CACHE).
DROP_CACHE_QEMU = (4, 0)
# QEMU reports migration blockers (query-migrate blocked-reasons) since 6.0: libvirt then prints
# QEMU's reason for what QEMU blocks (QEMU_CAPS_MIGRATION_BLOCKED_REASONS).
BLOCKED_REASONS_QEMU = (6, 0)


def version(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in text.split(".")[:2])
    except ValueError:
        raise Skip(f"version {text!r} is not dotted numbers") from None


def capabilities(case: GuestCase) -> Capabilities:
    try:
        return parse_capabilities(case.dst["virt"]["capabilities_xml"])
    except DomainXMLError as exc:
        raise Skip(f"{case.dst_label}: {exc}") from None


def storage_lookup(case: GuestCase, disk: Disk) -> dict[str, Any] | None:
    return next((entry for entry in case.lookups.get("storage") or () if entry.get("target") == disk.target), None)


def local_disks(case: GuestCase) -> list[Disk]:
    """The disks whose storage must be the same on the destination: file, block, volume, directory
    and NVMe disks with a source (network disks are reached from any host; an empty CD-ROM has nothing)."""
    return [
        disk for disk in case.domain.disks if disk.type in ("file", "block", "volume", "dir", "nvme") and not disk.empty
    ]


def libvirt_shared(case: GuestCase, entry: dict[str, Any]) -> str | None:
    """Why libvirt counts the disk's filesystem as shared, or None: its type (virFileIsSharedFS)
    or a qemu.conf shared_filesystems entry holding its path (libvirt releases with that key)."""
    if (entry.get("fstype") or "") in SHARED_FILESYSTEMS:
        return f"{entry['fstype']} is a filesystem libvirt counts as shared"
    path = entry.get("path") or ""
    listed = case.dst["virt"].get("shared_filesystems") or ()
    for mount in listed:
        if path == mount or path.startswith(mount.rstrip("/") + "/"):
            return f"{mount} is listed in {case.dst_label}'s qemu.conf shared_filesystems"
    return None


def allocation(case: GuestCase, target: str) -> int | None:
    info = next((d for d in case.guest.get("disks") or () if d.get("target") == target), None)
    return None if info is None else info.get("allocation_bytes")


@registry.check(
    "guest.libvirt-refuses",
    "Nothing in the guest is what libvirt refuses to migrate",
    "critical",
    needs=("guest.xml", "guest.snapshots", "guest.block_jobs", "src.identity.hypervisor.libvirt"),
    scope="guest",
    description=(
        "the guest has what libvirt refuses to migrate: snapshots, an active block job, PCI/SCSI/mdev host "
        "devices or hostdev interfaces, vDPA interfaces, virtiofs filesystems, transient disks, invtsc "
        "without a TSC frequency, DIMMs without an address, or shared memory that is not a master"
    ),
    rationale=(
        "Before a byte moves, libvirt 9.0's qemuMigrationSrcIsAllowed (src/qemu/qemu_migration.c) refuses "
        "these, with errors such as `cannot migrate domain with 2 snapshots`, `cannot migrate a domain "
        "with <hostdev mode='subsystem' type='pci'>`, `vDPA devices cannot be migrated`, `migration with "
        "virtiofs device is not supported` and `domain has 'invtsc' CPU feature but TSC frequency is not "
        "specified`; with QEMU 6.0 and later it asks QEMU for its migration blockers first and prints "
        "QEMU's reason (`cannot migrate domain: State blocked by non-migratable CPU device (invtsc flag)`)"
    ),
    fix=(
        "remove what blocks it before the window (delete or merge the snapshots, wait for the block job, "
        "detach the host device or virtiofs share, set <timer name='tsc' frequency=...>), or shut the "
        "guest down and start it on the destination"
    ),
)
def libvirt_refuses(case: GuestCase) -> Outcome:
    domain = case.domain
    refusals: list[tuple[str, str]] = []  # (what, libvirt's words)
    if case.guest["snapshots"] > 0:
        refusals.append(("snapshots", f"cannot migrate domain with {case.guest['snapshots']} snapshots"))
    for hostdev in domain.hostdevs:
        if hostdev.mode == "capabilities":
            refusals.append(
                (f"hostdev {hostdev.address}", "cannot migrate a domain with <hostdev mode='capabilities'>")
            )
        elif hostdev.type != "usb":
            refusals.append(
                (
                    f"{hostdev.type} host device {hostdev.address}",
                    f"cannot migrate a domain with <hostdev mode='subsystem' type='{hostdev.type}'>",
                )
            )
    for interface in domain.interfaces:
        if interface.type == "hostdev" and interface.teaming != "transient":
            refusals.append((f"interface {interface.mac}", "cannot migrate a domain with <interface type='hostdev'>"))
        elif interface.type == "vdpa":
            refusals.append((f"vDPA interface {interface.dev}", "vDPA devices cannot be migrated"))
    if case.guest["block_jobs"]:
        jobs = ", ".join(f"{job['disk']} ({job['type']})" for job in case.guest["block_jobs"])
        refusals.append((f"block jobs on {jobs}", "domain has active block job"))
    if domain.cpu is not None and domain.cpu.invtsc and not domain.tsc_frequency:
        refusals.append(("invtsc", invtsc_words(case)))
    for memory in domain.memory_devices:
        if memory.model == "dimm" and memory.address_type != "dimm":
            refusals.append(("DIMM without an address", "domain's dimm info lacks slot ID or base address"))
    for shmem in domain.shmems:
        if shmem.model == "ivshmem":
            refusals.append((f"shmem {shmem.name}", "migration with legacy shmem device is not supported"))
        elif shmem.role != "master":
            refusals.append(
                (
                    f"shmem {shmem.name}",
                    f"shmem device '{shmem.name}' cannot be migrated, only shmem with role='master' can be migrated",
                )
            )
    for filesystem in domain.filesystems:
        if filesystem.driver == "virtiofs":
            refusals.append((f"virtiofs {filesystem.target}", "migration with virtiofs device is not supported"))
    for disk in domain.disks:
        if disk.transient:
            refusals.append((f"transient disk {disk.target}", "migration with transient disk is not supported"))
    usb = [h.address for h in domain.hostdevs if h.mode == "subsystem" and h.type == "usb"]
    if refusals:
        evidence = [Evidence(case.src_label, f"{case.name}: {what}", words, "none") for what, words in refusals]
        return failed(
            f"{LIBVIRT} refuses to migrate {case.name}: " + "; ".join(f'"{words}"' for _, words in refusals),
            *evidence,
            remediation=(
                f"{case.src_label}: remove what blocks {case.name} ({', '.join(what for what, _ in refusals)}) before "
                f"the window, or shut it down and start it on {case.dst_label}"
            ),
        )
    if usb:
        return warned(
            f"{LIBVIRT} migrates {case.name}'s USB host devices ({', '.join(usb)}) only if {case.dst_label} has the "
            "same devices plugged in",
            Evidence(case.dst_label, f"{case.name}: USB host devices", usb, "present on the destination"),
            remediation=f"{case.dst_label}: plug in USB devices {', '.join(usb)}, or detach them from {case.name}",
        )
    return passed(
        f"nothing in {case.name} that {LIBVIRT}'s qemuMigrationSrcIsAllowed refuses "
        f"({case.guest['snapshots']} snapshots, no block job, {len(domain.hostdevs)} host devices)"
    )


def invtsc_words(case: GuestCase) -> str:
    """What libvirt says of invtsc without a TSC frequency: QEMU 6.0 and later report it as a
    migration blocker, which libvirt asks for first and prints (seen with libvirt 9.0, QEMU 7.2)."""
    qemu = case.src["identity"]["hypervisor"]["libvirt"]["hypervisor_version"]
    if version(qemu) >= BLOCKED_REASONS_QEMU:
        return "cannot migrate domain: State blocked by non-migratable CPU device (invtsc flag)"
    return "domain has 'invtsc' CPU feature but TSC frequency is not specified"


@registry.check(
    "guest.cpu",
    "The destination's CPU runs the guest's CPU definition",
    "critical",
    needs=("guest.xml", "src.virt", "dst.virt.capabilities_xml", "dst.virt.domain_capabilities"),
    scope="guest",
    description=(
        "the destination's CPU lacks features of the guest's CPU model (virConnectCompareHypervisorCPU says "
        "incompatible), or a host-passthrough guest meets a destination without KVM or with another CPU"
    ),
    rationale=(
        "On arrival libvirt compares the guest's migratable CPU with the destination's and stops with `the "
        "CPU is incompatible with host CPU` or `guest CPU doesn't match specification: missing features: "
        "...` (libvirt 9.0 src/cpu/cpu.c); a host-passthrough guest sees the source's exact CPU, which "
        "libvirt's formatdomain documentation says migrates only between identical hosts"
    ),
    fix=(
        "give the guest a CPU model both hosts run: the model virConnectBaselineHypervisorCPU computes over "
        "both hosts (shown in the finding), set as <cpu mode='custom'> in the guest's definition"
    ),
)
def cpu(case: GuestCase) -> Outcome:
    guest_cpu = case.domain.cpu
    if guest_cpu is not None and guest_cpu.mode in ("host-passthrough", "maximum"):
        return passthrough(case, guest_cpu.mode)
    if guest_cpu is None or (guest_cpu.model is None and not guest_cpu.features):
        return passed(f"{case.name} names no CPU model: QEMU's default model runs on any x86 host")
    looked = case.lookups.get("cpu")
    if not looked:
        raise Skip(f"no CPU comparison for guest {case.name} on {case.dst_label}")
    result, message = looked.get("result"), looked.get("message")
    evidence = Evidence(case.dst_label, f"{case.name}: CPU {guest_cpu.model}", result, "identical or superset")
    if result in ("identical", "superset"):
        return passed(f"{case.dst_label}'s CPU is {result} to {case.name}'s {guest_cpu.model}", evidence)
    if result == "incompatible":
        model = baseline_model(looked.get("baseline_xml"))
        return failed(
            f"{case.dst_label}'s CPU cannot run {case.name}'s {guest_cpu.model}: {message or 'incompatible'}",
            evidence,
            remediation=(
                f"{case.name}: use a CPU model both hosts run"
                + (
                    f": <cpu mode='custom' match='exact'><model>{model}</model></cpu> (virConnectBaselineHypervisorCPU)"
                    if model
                    else ""
                )
            ),
        )
    if result == "not-compared":
        return skipped(f"{case.name}'s CPU was not compared on {case.dst_label}: {message or 'no reason given'}")
    return warned(
        f"cannot tell whether {case.dst_label} runs {case.name}'s CPU {guest_cpu.model}: {message or result}",
        evidence,
        remediation=f"{case.dst_label}: virsh hypervisor-cpu-compare with {case.name}'s <cpu> element",
    )


def baseline_model(xml: str | None) -> str | None:
    """The model name in a baseline CPU's XML."""
    if not xml:
        return None
    start, end = xml.find("<model"), xml.find("</model>")
    if start < 0 or end < 0:
        return None
    return xml[xml.index(">", start) + 1 : end].strip() or None


def passthrough(case: GuestCase, mode: str) -> Outcome:
    """A host-passthrough (or maximum) guest sees its host's CPU as KVM offers it: the
    destination must offer the mode and the same CPU (its host-model: model and features)."""
    kvm = case.dst["virt"]["domain_capabilities"].get("kvm")
    if not kvm:
        return failed(
            f"{case.name} runs with CPU mode {mode}, which needs KVM; {case.dst_label} offers no KVM domain",
            Evidence(case.dst_label, "KVM domain capabilities", None, "present"),
            remediation=f"{case.dst_label}: enable KVM (/dev/kvm), or give {case.name} a named CPU model",
        )
    source_kvm = case.src["virt"]["domain_capabilities"].get("kvm")
    try:
        offered = mode in cpu_modes(kvm)
        dst = host_model(kvm)
        src = host_model(source_kvm) if source_kvm else None
        src_cpu = parse_capabilities(case.src["virt"]["capabilities_xml"]).host_cpu
    except DomainXMLError as exc:
        raise Skip(str(exc)) from None
    if not offered:
        return failed(
            f"{case.dst_label}'s KVM does not offer CPU mode {mode} that {case.name} uses",
            Evidence(case.dst_label, f"CPU mode {mode}", "supported='no'", "supported='yes'"),
            remediation=f"{case.name}: use a named CPU model both hosts run",
        )
    if src is None or dst is None:
        raise Skip(f"no KVM host-model CPU to compare on {case.src_label if src is None else case.dst_label}")
    dst_cpu = capabilities(case).host_cpu
    missing = sorted(set(src.features) - set(dst.features))
    evidence = [
        Evidence(case.dst_label, "KVM host-model CPU", f"{dst.vendor} {dst.model}", f"{src.vendor} {src.model}"),
        Evidence(case.dst_label, "host-model features missing", missing, []),
        Evidence(
            case.dst_label,
            "signature, microcode",
            f"{dst_cpu.signature}, {dst_cpu.microcode}",
            f"{src_cpu.signature}, {src_cpu.microcode}",
        ),
    ]
    fix = f"{case.name}: use a named CPU model both hosts run (virsh hypervisor-cpu-baseline over both hosts' CPUs)"
    if (src.vendor, src.model) != (dst.vendor, dst.model) or missing:
        return failed(
            f"{case.name} runs with CPU mode {mode}: it sees {case.src_label}'s {src.vendor} {src.model}, and "
            f"{case.dst_label}'s {dst.vendor} {dst.model} differs"
            + (f" (lacks {', '.join(missing)})" if missing else ""),
            *evidence,
            remediation=fix,
        )
    if (src_cpu.signature, src_cpu.microcode) != (dst_cpu.signature, dst_cpu.microcode):
        return warned(
            f"{case.name} runs with CPU mode {mode}; the hosts' CPUs share model and features but not signature "
            f"or microcode ({src_cpu.signature} {src_cpu.microcode} vs {dst_cpu.signature} {dst_cpu.microcode})",
            *evidence,
            remediation=fix,
        )
    return passed(
        f"{case.name} runs with CPU mode {mode}; both hosts' KVM offer the same {dst.vendor} {dst.model}", *evidence
    )


@registry.check(
    "guest.machine",
    "The destination's QEMU has the guest's emulator, machine type and virtualization type",
    "critical",
    needs=("guest.xml", "dst.virt.capabilities_xml"),
    scope="guest",
    description=(
        "the destination lacks the guest's emulator binary, its machine type (pc-q35-7.2, ...) or its "
        "domain type (kvm) for the guest's architecture"
    ),
    rationale=(
        "The destination's libvirt rejects the incoming definition before QEMU starts: `Cannot check QEMU "
        "binary ...`, `Emulator '...' does not support machine type '...'`, `Emulator '...' does not "
        "support virt type 'kvm'` (libvirt 9.0 src/qemu/qemu_capabilities.c); a machine type only "
        "newer QEMU has is the usual cause after an uneven upgrade"
    ),
    fix=(
        "upgrade the destination's QEMU to one with the guest's machine type, install its emulator, or enable KVM there"
    ),
)
def machine(case: GuestCase) -> Outcome:
    domain = case.domain
    caps = capabilities(case)
    arch = caps.archs.get(domain.arch or "")
    if arch is None:
        return failed(
            f"{case.dst_label} has no QEMU for {case.name}'s architecture {domain.arch}",
            Evidence(case.dst_label, "guest architectures", sorted(caps.archs), domain.arch),
            remediation=f"{case.dst_label}: install qemu-system for {domain.arch}",
        )
    problems, evidence = [], []
    if domain.emulator:
        evidence.append(Evidence(case.dst_label, "emulator", list(arch.emulators), domain.emulator))
        if domain.emulator not in arch.emulators:
            problems.append(
                f'"Cannot check QEMU binary {domain.emulator}": {case.dst_label} has {", ".join(arch.emulators) or "none"}'
            )
    emulator = domain.emulator or (arch.emulators[0] if arch.emulators else "?")
    if domain.machine:
        evidence.append(Evidence(case.dst_label, "machine type", domain.machine in arch.machines, domain.machine))
        if domain.machine not in arch.machines:
            problems.append(f"\"Emulator '{emulator}' does not support machine type '{domain.machine}'\"")
    evidence.append(Evidence(case.dst_label, "domain types", list(arch.domain_types), domain.type))
    if domain.type not in arch.domain_types:
        problems.append(f"\"Emulator '{emulator}' does not support virt type '{domain.type}'\"")
    if problems:
        return failed(
            f"{case.dst_label} cannot start {case.name}: " + "; ".join(problems),
            *evidence,
            remediation=f"{case.dst_label}: install a QEMU that offers {domain.type} guests of machine type {domain.machine} at {emulator}",
        )
    return passed(
        f"{case.dst_label} runs {domain.type} {domain.arch} guests of machine type {domain.machine} with {emulator}",
        *evidence,
    )


@registry.check(
    "guest.storage",
    "Each disk's storage is the same on the destination, or libvirt is told to copy it",
    "critical",
    needs=("guest.xml", "guest.disks", "dst.virt"),
    scope="guest",
    description=(
        "a file or block disk is not proven to be the same storage on the destination (the marker written "
        "beside it on the source is not seen there), or is the same storage on a filesystem libvirt does not "
        "count as shared"
    ),
    rationale=(
        "Libvirt 9.0's qemuMigrationSrcIsSafe refuses a file disk on a filesystem it does not count as shared "
        "(virFileIsSharedFS: NFS, GFS2, OCFS2, CephFS, GPFS, ...) with `Unsafe migration: Migration without "
        "shared storage is unsafe`, even when both hosts see the same storage; a disk only the source has "
        "needs --copy-storage-all and room on the destination; libvirt does not check block devices, so "
        "a LUN the destination lacks fails when QEMU opens it there"
    ),
    fix=(
        "put the disk on storage both hosts mount from a filesystem libvirt counts as shared, or migrate with "
        "`virsh migrate --copy-storage-all` when it is local, or with `--unsafe` when the storage is proven "
        "the same and the cache mode is none"
    ),
)
def storage(case: GuestCase) -> Outcome:
    disks = local_disks(case)
    if not disks:
        networked = [disk.where for disk in case.domain.disks if disk.type == "network"]
        return passed(
            f"{case.name} has no file or block disk"
            + (f"; its network disks ({', '.join(networked)}) are reached from any host" if networked else "")
        )
    if "storage" not in case.lookups:
        raise Skip(f"no storage look-up for guest {case.name} from {case.src_label} to {case.dst_label}")
    unknown, copy, absent, unsafe, evidence = [], [], [], [], []
    shared: set[str] = set()  # why libvirt counts the same storage as shared
    for disk in disks:
        if disk.type == "nvme":  # a host's own NVMe namespace: always unsafe to libvirt
            copy.append(disk)
            continue
        entry = storage_lookup(case, disk)
        same = None if entry is None else entry.get("same")
        fstype = None if entry is None else entry.get("fstype")
        evidence.append(
            Evidence(case.dst_label, f"{disk.target}: {disk.where}", same_words(same, fstype), "same storage")
        )
        if same is None:
            unknown.append(f"{disk.target} ({disk.where}): {(entry or {}).get('error') or 'not looked up'}")
        elif not same and disk.readonly:
            absent.append(disk)
        elif not same:
            copy.append(disk)
        elif disk.type in ("file", "volume") and not disk.readonly:  # a volume is judged as its pool's files
            reason = libvirt_shared(case, entry or {})
            if reason:
                shared.add(reason)
            else:
                unsafe.append((disk, fstype))
    if absent:
        names = ", ".join(f"{disk.target} ({disk.where})" for disk in absent)
        return failed(
            f"{case.name}'s read-only {names} is not on storage {case.dst_label} sees, and libvirt copies no "
            "read-only disk (not even with --copy-storage-all): QEMU there cannot open it",
            *evidence,
            remediation=f"{case.dst_label}: put the same file at the same path, or eject it from {case.name}",
        )
    if copy:
        return copy_storage(case, copy, evidence)
    if unsafe:
        lines = [f"{disk.target} ({disk.where}) on {fstype or 'an unknown filesystem'}" for disk, fstype in unsafe]
        cache_ok = all(disk.cache in SAFE_CACHE_MODES for disk, _ in unsafe)
        why = (
            "safe here because the storage is proven the same on both hosts and the cache mode is "
            + "/".join(sorted({disk.cache or "" for disk, _ in unsafe}))
            if cache_ok
            else "but set cache='none' first: with host caching the destination may read stale data"
        )
        return failed(
            f"{case.name}'s storage is proven the same on {case.dst_label} (marker seen), but {LIBVIRT} refuses "
            f'it ("{UNSAFE_STORAGE}"): {"; ".join(lines)} is not a filesystem libvirt counts as shared',
            *evidence,
            remediation=(
                f"{case.dst_label}: mount it from a filesystem libvirt counts as shared (nfs, gfs2, ocfs2, ceph, ...), "
                f"or migrate with `virsh migrate --live --unsafe {case.name} ...`, {why}"
            ),
        )
    if unknown:
        return warned(
            f"cannot tell whether {case.dst_label} sees the same storage as {case.src_label} for {case.name}: "
            + "; ".join(unknown),
            *evidence,
            remediation=f"{case.dst_label}: check that each disk's path is on storage both hosts mount",
        )
    return passed(
        f"{case.name}'s disks are the same storage on {case.dst_label} and libvirt accepts them"
        + (f" ({'; '.join(sorted(shared))})" if shared else ""),
        *evidence,
    )


def same_words(same: bool | None, fstype: str | None) -> str:
    state = "unknown" if same is None else "same storage (marker seen)" if same else "not the same (marker not seen)"
    return f"{state} on {fstype}" if fstype else state


def copy_storage(case: GuestCase, disks: list[Disk], evidence: list[Evidence]) -> Outcome:
    """Disks only the source has: --copy-storage-all, with the room they need on the destination."""
    needed = [allocation(case, disk.target) for disk in disks]
    known = sum(size for size in needed if size is not None)
    free = [entry.get("free_bytes") for disk in disks if (entry := storage_lookup(case, disk)) is not None]
    room = min((value for value in free if value is not None), default=None)
    names = ", ".join(f"{disk.target} ({disk.where})" for disk in disks)
    space = f"{human_bytes(known)} allocated" + ("" if None not in needed else " (not all sizes known)")
    evidence.append(Evidence(case.dst_label, "free space for the copies", room, f">= {known}"))
    refused = (
        f'{LIBVIRT} refuses it ("{UNSAFE_STORAGE}") unless it is copied'
        if any(disk.type == "file" for disk in disks)
        else "libvirt does not check block devices, so QEMU there would open its own: it must be copied"
    )
    summary = (
        f"{case.name}'s {names} is not on storage {case.dst_label} sees: {refused} with --copy-storage-all ({space})"
    )
    fix = (
        f"{case.src_label}: virsh migrate --live --copy-storage-all {case.name} ... "
        f"(needs {space} on {case.dst_label}"
        + (f", which has {human_bytes(room)} free there)" if room is not None else ")")
    )
    if room is not None and room < known:
        summary += f"; {case.dst_label} has only {human_bytes(room)} free there"
        fix = f"{case.dst_label}: free {human_bytes(known - room)} where the disks would be copied, then {fix}"
    return failed(summary, *evidence, remediation=fix)


@registry.check(
    "guest.cache-mode",
    "Disks on shared storage use a cache mode libvirt migrates",
    "high",
    needs=("guest.xml", "src.identity.hypervisor.libvirt", "dst.virt"),
    scope="guest",
    description=(
        "a disk on shared storage that is not a cluster filesystem uses a host cache mode other than none "
        "or directsync while the source's QEMU cannot drop the page cache on migration (before QEMU 4.0)"
    ),
    rationale=(
        "Libvirt 9.0's qemuMigrationSrcIsSafe refuses it with `Unsafe migration: Migration may lead to data "
        "corruption if disks use cache other than none or directsync`: the destination could read stale "
        "blocks from its own page cache; QEMU 4.0 and later drop the cache (QEMU_CAPS_MIGRATION_FILE_DROP_CACHE)"
    ),
    fix="set <driver cache='none'/> on the disk (takes effect at the guest's next start), or upgrade QEMU",
)
def cache_mode(case: GuestCase) -> Outcome:
    disks = [d for d in local_disks(case) if d.type in ("file", "block") and not d.readonly and not d.shareable]
    if not disks:
        return passed(f"{case.name} has no writable file or block disk whose cache mode libvirt checks")
    if "storage" not in case.lookups:
        raise Skip(f"no storage look-up for guest {case.name} from {case.src_label} to {case.dst_label}")
    risky = []
    for disk in disks:
        entry = storage_lookup(case, disk) or {}
        if disk.cache in SAFE_CACHE_MODES or entry.get("same") is not True:
            continue  # not shared storage: guest.storage judges it
        if disk.type == "file" and (entry.get("fstype") in CLUSTER_FILESYSTEMS or not libvirt_shared(case, entry)):
            continue  # a cluster filesystem is safe; one libvirt does not count as shared is refused before
        risky.append(disk)
    qemu = case.src["identity"]["hypervisor"]["libvirt"]["hypervisor_version"]
    evidence = [
        Evidence(case.src_label, f"{d.target} cache", d.cache or "default", "none or directsync") for d in risky
    ]
    if not risky:
        return passed(f"{case.name}'s shared disks use cache none or directsync, or sit on a cluster filesystem")
    if version(qemu) >= DROP_CACHE_QEMU:
        return passed(
            f"{case.name}'s {', '.join(d.target for d in risky)} use host caching on shared storage; {case.src_label}'s "
            f"QEMU {qemu} drops the page cache on migration, so {LIBVIRT} allows it",
            *evidence,
        )
    modes = ", ".join(f"{d.target} cache={d.cache or 'default'}" for d in risky)
    return failed(
        f'{LIBVIRT} refuses {case.name} ("{UNSAFE_CACHE}"): {modes}, and {case.src_label}\'s QEMU {qemu} cannot '
        "drop the page cache",
        *evidence,
        remediation=f"{case.name}: set <driver cache='none'/> on {', '.join(d.target for d in risky)}",
    )


def planned(case: GuestCase) -> list[tuple[dict[str, Any], Domain | None]]:
    """The guests planned to the destination before this one: entry and domain (None when its XML
    does not parse)."""
    found: list[tuple[dict[str, Any], Domain | None]] = []
    for entry in case.src.get("guests") or ():
        if entry.get("name") in case.others:
            try:
                found.append((entry, parse_domain(entry.get("xml") or "")))
            except DomainXMLError:
                found.append((entry, None))
    return found


def page_size(domain: Domain) -> int | None:
    """The hugepage size (KiB) backing DOMAIN's memory, None when it has none; <hugepages/> alone is
    the host's default size, 2 MiB on x86."""
    sizes = domain.hugepages
    return None if sizes is None else max(sizes) if sizes else 2048


@registry.check(
    "guest.memory",
    "The destination has free memory for the guest",
    "critical",
    needs=("guest.xml", "guest.memory_kib", "dst.virt.free_memory_bytes"),
    scope="guest",
    description=(
        "the destination's free memory, less what guests planned to it earlier take, is smaller than the guest's memory"
    ),
    rationale=(
        "QEMU on the destination allocates the guest's memory as pages arrive; when the host runs out, the "
        "migration fails late or the kernel's OOM killer ends a guest (libvirt checks no free memory "
        "before migrating)"
    ),
    fix="move the guest to a host with room, or free memory on the destination first",
)
def memory(case: GuestCase) -> Outcome:
    if case.domain.hugepages is not None:
        return skipped(f"{case.name}'s memory is backed by hugepages: guest.hugepages judges it")
    need = case.guest["memory_kib"] * 1024
    free = case.dst["virt"]["free_memory_bytes"]
    taken = (
        sum(entry.get("memory_kib") or 0 for entry, domain in planned(case) if not domain or not domain.hugepages)
        * 1024
    )
    left = free - taken
    evidence = Evidence(case.dst_label, "free memory less planned guests", left, f">= {need}")
    others = f" after {', '.join(case.others)} ({human_bytes(taken)})" if case.others else ""
    if left < need:
        return failed(
            f"{case.dst_label} has {human_bytes(max(left, 0))} free{others}; {case.name} needs {human_bytes(need)}",
            evidence,
            remediation=f"{case.dst_label}: free {human_bytes(need - left)} of memory, or send {case.name} elsewhere",
        )
    return passed(
        f"{case.dst_label} has {human_bytes(left)} free{others} for {case.name}'s {human_bytes(need)}", evidence
    )


@registry.check(
    "guest.hugepages",
    "The destination has free hugepages of the guest's size",
    "high",
    needs=("guest.xml", "dst.virt.hugepages_free"),
    scope="guest",
    description=(
        "the guest's memory is backed by hugepages and the destination has fewer free pages of that size than "
        "it needs, after guests planned to it earlier"
    ),
    rationale=(
        "QEMU cannot allocate the guest's memory on the destination (`unable to map backing store for guest "
        "RAM: Cannot allocate memory`) and the migration fails; hugepages are reserved per size at boot, so "
        "free ordinary memory does not help"
    ),
    fix="reserve more hugepages of that size on the destination (vm.nr_hugepages or hugepages-<size>kB/nr_hugepages)",
)
def hugepages(case: GuestCase) -> Outcome:
    size = page_size(case.domain)
    if size is None:
        return passed(f"{case.name}'s memory is not backed by hugepages")
    free = {int(size): count for size, count in case.dst["virt"]["hugepages_free"].items() if str(size).isdigit()}
    need = pages(case.domain.memory_kib or case.guest.get("memory_kib") or 0, size)
    taken = sum(pages(d.memory_kib or 0, size) for _, d in planned(case) if d is not None and page_size(d) == size)
    available = free.get(size, 0) - taken
    evidence = Evidence(case.dst_label, f"free {size} KiB pages less planned guests", available, f">= {need}")
    if available < need:
        return failed(
            f"{case.dst_label} has {max(available, 0)} free {size} KiB hugepages; {case.name} needs {need}",
            evidence,
            remediation=(
                f"{case.dst_label}: reserve {need - available} more: raise "
                f"/sys/kernel/mm/hugepages/hugepages-{size}kB/nr_hugepages by {need - available}"
            ),
        )
    return passed(f"{case.dst_label} has {available} free {size} KiB hugepages for {case.name}'s {need}", evidence)


def pages(memory_kib: int, size: int) -> int:
    return -(-memory_kib // size)


@registry.check(
    "guest.networks",
    "Each of the guest's interfaces finds its network, bridge or device on the destination",
    "high",
    needs=("guest.xml", "dst.virt.networks", "dst.links"),
    scope="guest",
    description=(
        "an interface's libvirt network is missing or inactive on the destination, its portgroup is missing, "
        "its bridge or direct device is missing or down, or its MTU is above the destination link's"
    ),
    rationale=(
        "The destination's libvirt cannot plug the interface and the migration fails (`Network not found: no "
        "network with matching name 'app'`, `network 'app' is not active`, `Cannot get interface MTU on "
        "'br-app': No such device`, libvirt 9.0); a smaller MTU silently drops the guest's large frames"
    ),
    fix="define and start the network (virsh net-start) or create the bridge on the destination with the same name and MTU",
)
def networks(case: GuestCase) -> Outcome:
    links = {link["name"]: link for link in case.dst["links"]}
    defined = {network["name"]: network for network in case.dst["virt"]["networks"]}
    problems, warnings, evidence = [], [], []
    for interface in case.domain.interfaces:
        label = f"{case.name} interface {interface.mac or interface.type} ({interface.type} {interface.source})"
        bridge = None
        if interface.type == "network":
            network = defined.get(interface.network or "")
            evidence.append(
                Evidence(
                    case.dst_label,
                    label,
                    None if network is None else ("active" if network["active"] else "inactive"),
                    "active",
                )
            )
            if network is None:
                problems.append(f"\"no network with matching name '{interface.network}'\"")
                continue
            if not network["active"]:
                problems.append(f"\"network '{interface.network}' is not active\"")
                continue
            if interface.portgroup and interface.portgroup not in network.get("portgroups", ()):
                problems.append(f"network {interface.network} has no portgroup {interface.portgroup}")
            bridge = network.get("bridge")
        elif interface.type in ("bridge", "direct"):
            bridge = interface.bridge if interface.type == "bridge" else interface.dev
            if bridge not in links:
                evidence.append(Evidence(case.dst_label, label, "missing", "present and up"))
                problems.append(
                    f"\"Cannot get interface MTU on '{bridge}': No such device\""
                    if interface.type == "bridge"
                    else f"device {bridge} is missing"
                )
                continue
        if bridge is None or bridge not in links:
            continue
        link = links[bridge]
        evidence.append(
            Evidence(
                case.dst_label,
                f"{bridge} state, MTU",
                f"{link['state']}, {link['mtu']}",
                f"UP, >= {interface.mtu or 1500}",
            )
        )
        if not link["admin_up"]:
            problems.append(f"{bridge} is down")
        elif link["state"] not in ("UP", "UNKNOWN"):
            warnings.append(f"{bridge} is {link['state']} (no port up: {case.name}'s traffic would go nowhere)")
        if interface.mtu and link["mtu"] < interface.mtu:
            problems.append(f"{bridge}'s MTU {link['mtu']} is below {case.name}'s {interface.mtu}")
    if problems:
        return failed(
            f"{case.dst_label} cannot connect {case.name}: " + "; ".join(problems),
            *evidence,
            remediation=f"{case.dst_label}: create or start what {case.name}'s interfaces use, with the same names and an MTU at least the guest's",
        )
    if warnings:
        return warned("; ".join(warnings), *evidence, remediation=f"{case.dst_label}: connect the bridge's uplink")
    if not case.domain.interfaces:
        return passed(f"{case.name} has no network interface")
    return passed(
        f"{case.dst_label} has what each of {case.name}'s {len(case.domain.interfaces)} interfaces connects to",
        *evidence,
    )


@registry.check(
    "guest.secrets",
    "The destination defines the secrets the guest's disks and vTPM use",
    "high",
    needs=("guest.xml", "dst.virt.secrets"),
    scope="guest",
    description=(
        "a secret the guest uses (LUKS disk encryption, RBD/iSCSI authentication, an encrypted vTPM's state) "
        "is not defined on the destination, by UUID or usage"
    ),
    rationale=(
        "The destination's libvirt looks each secret up when it starts the incoming QEMU and fails (`Secret not "
        "found: no secret with matching uuid '...'`, libvirt 9.0 secret driver); secrets are per host and "
        "are not migrated"
    ),
    fix="define the secret on the destination with the same UUID and value (virsh secret-define, secret-set-value)",
)
def secrets(case: GuestCase) -> Outcome:
    domain = case.domain
    uuids = {uuid: f"disk {disk.target}" for disk in domain.disks for uuid in disk.secrets}
    uuids |= {tpm.secret: "vTPM state" for tpm in domain.tpms if tpm.secret}
    usages = {usage: f"disk {disk.target}" for disk in domain.disks for usage in disk.secret_usages}
    if not uuids and not usages:
        return passed(f"{case.name} uses no secret")
    defined = case.dst["virt"]["secrets"]
    by_uuid = {secret["uuid"] for secret in defined}
    by_usage = {(secret.get("usage_type"), secret.get("usage_id")) for secret in defined}
    missing = [f"{uuid} ({what})" for uuid, what in uuids.items() if uuid not in by_uuid]
    missing += [
        f"{kind} usage {usage} ({what})"
        for (kind, usage), what in usages.items()
        if (kind, usage) not in by_usage and ("volume", usage) not in by_usage
    ]
    evidence = Evidence(case.dst_label, f"{case.name}: secrets", sorted(by_uuid & set(uuids)), sorted(uuids))
    if missing:
        first = next(iter(u for u in uuids if u not in by_uuid), None)
        words = f"\"no secret with matching uuid '{first}'\"" if first else "no secret with that usage"
        return failed(
            f"{case.dst_label} lacks {case.name}'s secrets: {', '.join(missing)} ({words})",
            evidence,
            remediation=f"{case.dst_label}: virsh secret-define with the same UUID and usage, then virsh secret-set-value",
        )
    return passed(f"{case.dst_label} defines the {len(uuids) + len(usages)} secrets {case.name} uses", evidence)
