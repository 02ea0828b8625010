"""Guests a scenario starts once the lab is up, and the payload that makes them dirty memory.

A scenario's `[guests.NAME]` table runs a transient diskless guest on `host` (default hosta) with
`memory_mib` of RAM (default 256) booting dirtier.s, a multiboot kernel assembled here at `lab
up` (GNU as and ld), which keeps `working_set_mib` of its RAM in use (default: all but the
kernel's first 16 MiB and 16 MiB more) and writes to `dirty_mib_s` MiB of it each second (pages
of 4 KiB, paced by the guest's PIT). The guests go with the lab: `down` kills every QEMU.
"""

import subprocess
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Any

from migdoctor.lab import layout
from migdoctor.lab.errors import LabError

PAYLOAD = layout.STATE_DIR / "dirtier.elf"
PAGE = 4096
MIB = 1024 * 1024
WORK_BASE_MIB = 16  # where dirtier.s starts its working set
KEYS: dict[str, type | tuple[type, ...]] = {
    "host": str,
    "memory_mib": int,
    "dirty_mib_s": (int, float),
    "working_set_mib": int,
}
DOMAIN_XML = """<domain type='{kind}'>
  <name>{name}</name>
  <memory unit='MiB'>{memory_mib}</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>{kernel}</kernel>
    <cmdline>dirty_pages_per_s={pages_per_s} working_set_pages={working_set_pages}</cmdline>
  </os>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>destroy</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <controller type='usb' model='none'/>
    <memballoon model='none'/>
  </devices>
</domain>
"""


@dataclass(frozen=True)
class Guest:
    name: str
    host: str = layout.NAMES[0]
    memory_mib: int = 256
    dirty_mib_s: float = 0.0
    working_set_mib: int = 0  # 0: as much as the RAM holds

    @property
    def working_set_pages(self) -> int:
        room = self.memory_mib - 2 * WORK_BASE_MIB
        return (min(self.working_set_mib, room) if self.working_set_mib else room) * MIB // PAGE

    @property
    def pages_per_s(self) -> int:
        return round(self.dirty_mib_s * MIB / PAGE)

    def domain_xml(self, kind: str) -> str:
        return DOMAIN_XML.format(
            kind=kind,
            name=escape(self.name),
            memory_mib=self.memory_mib,
            kernel=escape(str(PAYLOAD)),
            pages_per_s=self.pages_per_s,
            working_set_pages=self.working_set_pages,
        )


def parse(scenario: str, raw: Any, hosts: list[str]) -> dict[str, Guest]:
    """The scenario's `guests` table, checked: each guest on a host of the lab."""
    if not isinstance(raw, dict):
        raise LabError(f"scenario {scenario}: guests must be a table of guest tables")
    guests = {}
    for name, spec in raw.items():
        where = f"scenario {scenario}, guest {name}"
        if not isinstance(spec, dict):
            raise LabError(f"{where}: not a table")
        for key, value in spec.items():
            if key not in KEYS or not isinstance(value, KEYS[key]) or isinstance(value, bool):
                raise LabError(
                    f"{where}: {key} is not one of host (str), memory_mib, working_set_mib (int), dirty_mib_s"
                )
        guest = Guest(name, **spec)
        if guest.host not in hosts:
            raise LabError(f"{where}: host {guest.host} is not in the lab ({', '.join(hosts)})")
        if guest.memory_mib < 3 * WORK_BASE_MIB or guest.dirty_mib_s < 0:
            raise LabError(f"{where}: memory_mib must be at least {3 * WORK_BASE_MIB}, dirty_mib_s not negative")
        guests[name] = guest
    return guests


def build_payload() -> Path:
    """Assemble dirtier.s into PAYLOAD (a 32-bit ELF with a multiboot header, as QEMU loads it)."""
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


def start(guests: dict[str, Guest], uris: dict[str, str]) -> None:
    """Start every guest on its host (URIS: host name -> its libvirt URI)."""
    import libvirt

    from migdoctor.actions.canary import virt_type

    if not guests:
        return
    build_payload()
    for guest in guests.values():
        try:
            conn = libvirt.open(uris[guest.host])
            try:
                conn.createXML(guest.domain_xml(virt_type(conn)), 0)
            finally:
                conn.close()
        except libvirt.libvirtError as e:
            raise LabError(f"guest {guest.name} on {guest.host}: {e.get_error_message()}") from None
