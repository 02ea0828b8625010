"""The look-ups of one (source, destination) pair for each of the source's guests: its CPU
compared on the destination (and the baseline CPU of both hosts), and its disks proven the same
storage or not by a marker the source writes beside each disk and the destination looks for
(migdoctor/farside/marker.py). The marker is the one thing written; it is removed at once."""

from __future__ import annotations

from typing import Any
from xml.etree import ElementTree

from migdoctor.facts.guests import baseline_cpu, compare_cpu, cpu_identity, cpu_result
from migdoctor.transports import Transport, TransportError

BLOCK_DEVICE = "a block device: its directory is each host's own /dev, so no marker can prove it is the same storage"


def guest_lookups(
    src: Transport, dst: Transport, src_facts: dict[str, Any], dst_facts: dict[str, Any]
) -> dict[str, dict[str, Any]]:
    """measured.guests of the pair: by guest name, {"cpu": ..., "storage": [...]}."""
    guests = src_facts.get("guests") or []
    if not guests:
        return {}
    cpus = cpu_lookups(dst, guests, [facts.get("virt") or {} for facts in (src_facts, dst_facts)])
    storage = storage_lookups(src, dst, guests)
    return {guest["name"]: {"cpu": cpus[guest["name"]], "storage": storage[guest["name"]]} for guest in guests}


def cpu_lookups(dst: Transport, guests: list[dict[str, Any]], virts: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Each guest's CPU compared on DST, with the baseline of both hosts' CPUs (VIRTS: their virt
    parts) for its virtualisation type; libvirt's error for every guest when DST's libvirt cannot
    be opened. Guests with one CPU definition (a cluster's usual case) are compared once."""
    import libvirt

    libvirt.registerErrorHandler(lambda _ctx, _err: None, None)
    uri = dst.libvirt_uri
    try:
        conn = libvirt.open(dst.libvirt_route() or uri)
    except (libvirt.libvirtError, TransportError) as exc:
        message = exc.get_error_message() if isinstance(exc, libvirt.libvirtError) else str(exc)
        return {guest["name"]: cpu_result("error", f"cannot open {uri}: {message}") for guest in guests}
    try:
        baselines: dict[str, str | None] = {}
        compared: dict[tuple[str, ...], dict[str, Any]] = {}
        found = {}
        for guest in guests:
            key = cpu_identity(guest["xml"])
            virt_type = key[0]
            if virt_type not in baselines:
                offered = [(virt.get("domain_capabilities") or {}).get(virt_type) for virt in virts]
                baselines[virt_type] = baseline_cpu(conn, offered, virt_type)
            if key not in compared:
                compared[key] = compare_cpu(conn, guest["xml"])
            found[guest["name"]] = {**compared[key], "baseline_xml": baselines[virt_type]}
        return found
    finally:
        conn.close()


def disk_paths(xml: str) -> list[tuple[str, str, str]]:
    """(target, type, path) of each file and block disk with a source; network disks need no
    shared directory and are not listed."""
    found = []
    for disk in ElementTree.fromstring(xml).iterfind("devices/disk"):
        kind, source, target = disk.get("type"), disk.find("source"), disk.find("target")
        if kind not in ("file", "block") or source is None or target is None:
            continue
        path = source.get("file" if kind == "file" else "dev")
        if path:
            found.append((target.get("dev", ""), kind, path))
    return found


def storage_lookups(src: Transport, dst: Transport, guests: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Each guest's file disks: a marker beside each path on SRC, looked for on DST, removed from
    SRC at once (also when the look fails; a far side that ends removes what it placed too)."""
    disks = {guest["name"]: disk_paths(guest["xml"]) for guest in guests}
    files = list(dict.fromkeys(path for found in disks.values() for _, kind, path in found if kind == "file"))
    seen: dict[str, dict[str, Any]] = {}
    if files:
        try:
            seen = marker_round(src, dst, files)
        except TransportError as exc:
            seen = {path: {"error": str(exc)} for path in files}
    return {
        name: [storage_entry(target, kind, path, seen.get(path, {})) for target, kind, path in found]
        for name, found in disks.items()
    }


def marker_round(src: Transport, dst: Transport, paths: list[str]) -> dict[str, dict[str, Any]]:
    """The marker's three steps over PATHS; by path, what the destination saw (or why not)."""
    placed = src.call("marker-place", paths=paths)
    written = [item["marker"] for item in placed if item["marker"]]
    try:
        looked = dst.call("marker-look", markers=[{"path": item["path"], "marker": item["marker"]} for item in placed])
    finally:
        if written:
            src.call("marker-remove", markers=written)
    found = {item["path"]: dict(item) for item in looked}
    for item in placed:
        if item["error"]:
            found[item["path"]].update(same=None, error=f"{src.label}: {item['error']}")
        elif found[item["path"]]["error"]:
            found[item["path"]]["error"] = f"{dst.label}: {found[item['path']]['error']}"
    return found


def storage_entry(target: str, kind: str, path: str, seen: dict[str, Any]) -> dict[str, Any]:
    """One disk's storage look-up; `exists` (beyond same): the destination has a file at the path,
    which `--copy-storage-all` writes into (without one, libvirt 9.0 creates it only in a storage
    pool whose target is that directory: "Storage pool not found: no storage pool with matching
    target path")."""
    entry = {"target": target, "path": path, "same": None, "exists": None, "fstype": None, "free_bytes": None}
    if kind == "block":
        return {**entry, "error": BLOCK_DEVICE}
    keys = ("same", "exists", "fstype", "free_bytes", "error")
    return {**entry, "error": None, **{key: seen[key] for key in keys if key in seen}}
