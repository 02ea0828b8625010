"""Each lab host's private files: /etc/netns entries, libvirt configs, directories to bind-mount.

A host sees its own /etc/hosts, /etc/resolv.conf and /etc/hostname because `ip netns exec`
bind-mounts /etc/netns/NAME/* over /etc; the libvirt directories (and /etc/xen when a scenario
writes xend-config.sxp, the firewall tools' state when it runs them) are bind-mounted by the
host's anchor process (see daemons.py).
"""

import contextlib
import json
import shutil
from pathlib import Path
from typing import Any

from migdoctor.lab import layout, pki, ssh
from migdoctor.lab.errors import LabError
from migdoctor.lab.scenario import HostConfig, Scenario

CAPS = Path("qemu/capabilities")


def mounts(h: layout.Host, cfg: HostConfig) -> list[tuple[Path, str]]:
    """(source under the host's dir, target path) for every private directory of `h`."""
    pairs = [(h.dir / src, dst) for src, dst in layout.PRIVATE_DIRS.items()]
    pairs.append((h.dir / layout.SSHD_PRIVSEP[0], layout.SSHD_PRIVSEP[1]))
    pairs.append((h.dir / layout.ROOT_HOME[0], layout.ROOT_HOME[1]))
    if cfg.xend_config is not None:
        pairs.append((h.dir / layout.XEN_DIR[0], layout.XEN_DIR[1]))
    if cfg.tls is not None:
        pairs.append((h.dir / layout.PKI_DIR[0], layout.PKI_DIR[1]))
    if cfg.root_ssh is not None:
        pairs.append((h.dir / layout.ROOT_SSH_DIR[0], layout.ROOT_SSH_DIR[1]))
    if cfg.firewall_tools:
        pairs += [(h.dir / src, dst) for src, dst in {**layout.FIREWALL_STATE, **layout.FIREWALL_RUN}.items()]
    if cfg.shared_storage:
        pairs.append((layout.STATE_DIR / layout.SHARED_GUEST_DIR[0], layout.SHARED_GUEST_DIR[1]))
    return pairs


def mountpoints_needed(scn: Scenario) -> list[str]:
    """Targets that must exist in the root filesystem before a private mount can cover them."""
    targets = {dst for h in scn.lab_hosts for _, dst in mounts(h, scn.hosts[h.name])}
    return sorted(t for t in targets if not Path(t).exists())


def lock_files_left(scn: Scenario) -> list[str]:
    """The firewall tools' lock files that would be left on the machine when the lab goes."""
    if not any(cfg.firewall_tools for cfg in scn.hosts.values()):
        return []
    return [p for p in layout.FIREWALL_LOCKS if not Path(p).exists()]


def remove_files(paths: list[str]) -> None:
    """Remove the lock files `up` recorded (only those: the record is read back from disk)."""
    for p in set(paths) & set(layout.FIREWALL_LOCKS):
        Path(p).unlink(missing_ok=True)


def create_mountpoints(paths: list[str]) -> None:
    for p in paths:
        Path(p).mkdir(parents=True, mode=0o755)


def remove_mountpoints(paths: list[str]) -> None:
    """Remove the empty mount points `up` created; anything with content is left alone."""
    for p in paths:
        with contextlib.suppress(OSError):
            Path(p).rmdir()


def write(h: layout.Host, cfg: HostConfig) -> None:
    """Write every file host `h` reads, as the scenario describes it."""
    for src, dst in mounts(h, cfg):
        if dst in layout.FIREWALL_STATE.values():
            copy_machine_state(Path(dst), src)
        else:
            src.mkdir(parents=True, exist_ok=True)
    (h.dir / layout.ROOT_HOME[0]).chmod(0o700)
    if cfg.root_ssh is not None:  # the mount point of root's own ~/.ssh inside the host's /root
        (h.dir / layout.ROOT_HOME[0] / ".ssh").mkdir(mode=0o700, exist_ok=True)
    (h.dir / "log").mkdir(exist_ok=True)
    (h.dir / "etc-libvirt" / "libvirtd.conf").write_text(libvirt_conf(cfg.libvirtd_conf))
    (h.dir / "etc-libvirt" / "qemu.conf").write_text(libvirt_conf(cfg.qemu_conf))
    if cfg.xend_config is not None:
        (h.dir / layout.XEN_DIR[0] / "xend-config.sxp").write_text(cfg.xend_config)
    if cfg.tls is not None:
        pki.write_host(h, cfg.tls)
    if cfg.root_ssh is not None:
        ssh.write_root_ssh(h, cfg.root_ssh)
    etc = h.netns_etc
    etc.mkdir(parents=True, exist_ok=True)
    hosts = ["127.0.0.1\tlocalhost", "::1\tlocalhost ip6-localhost ip6-loopback", *cfg.hosts_lines]
    (etc / "hosts").write_text("\n".join(hosts) + "\n")
    options = f"options {cfg.resolver_options}\n" if cfg.resolver_options else ""
    (etc / "resolv.conf").write_text(f"search {layout.ZONE}\nnameserver {layout.DNS_IP}\n{options}")
    if Path("/etc/hostname").exists():
        (etc / "hostname").write_text(cfg.hostname + "\n")


def copy_machine_state(path: Path, dst: Path) -> None:
    """The machine's own file or directory at PATH, as the host's private starting point."""
    try:
        if path.is_dir():
            shutil.copytree(path, dst, symlinks=True)
        else:
            shutil.copy2(path, dst)
    except OSError as e:
        raise LabError(f"cannot copy {path} for a lab host: {e.strerror or e} (run scripts/setup.sh)") from None


def write_edits(h: layout.Host, cfg: HostConfig) -> None:
    """qemu.conf as an admin left it after libvirtd started: loaded only at the next restart."""
    if cfg.qemu_conf_edited:
        (h.dir / "etc-libvirt" / "qemu.conf").write_text(libvirt_conf({**cfg.qemu_conf, **cfg.qemu_conf_edited}))


def remove_netns_etc() -> None:
    """Drop every lab /etc/netns entry, and /etc/netns itself once empty."""
    for h in layout.ALL_HOSTS.values():
        shutil.rmtree(h.netns_etc, ignore_errors=True)
    with contextlib.suppress(OSError):
        Path("/etc/netns").rmdir()


def save_capabilities(h: layout.Host) -> None:
    """Keep the qemu capabilities libvirtd probed, so the next start skips the probe."""
    src = h.dir / "cache-libvirt" / CAPS
    if not src.is_dir():
        return
    dst = layout.CACHE_DIR / "qemu-capabilities"
    dst.mkdir(parents=True, exist_ok=True)
    for f in src.glob("*.xml"):
        shutil.copy2(f, dst / f.name)


def libvirt_conf(settings: dict[str, Any]) -> str:
    """Render a table as libvirt's `key = value` config syntax."""
    lines = ["# written by migdoctor lab from its scenario"]
    lines += [f"{key} = {_conf_value(key, value)}" for key, value in settings.items()]
    return "\n".join(lines) + "\n"


def _conf_value(key: str, value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        if '"' in value or "\n" in value:
            raise LabError(f"config value for {key} may not contain quotes or newlines")
        return json.dumps(value)
    if isinstance(value, list):
        return "[ " + ", ".join(_conf_value(key, v) for v in value) + " ]"
    raise LabError(f"config value for {key} must be a string, integer, boolean or list")


def seed_capabilities(h: layout.Host) -> bool:
    """Give the host's libvirtd the cached qemu capabilities; False when there are none."""
    cached = sorted((layout.CACHE_DIR / "qemu-capabilities").glob("*.xml"))
    dst = h.dir / "cache-libvirt" / CAPS
    dst.mkdir(parents=True, exist_ok=True)
    for f in cached:
        shutil.copy2(f, dst / f.name)
    return bool(cached)
