"""Scenario guests that dirty memory: what `lab up` makes of `dirty_mib_s` (the payload's command
line, the domain booting it) and the values it refuses."""

import subprocess
from xml.etree import ElementTree

import pytest

from migdoctor.lab import guests, scenario
from migdoctor.lab.errors import LabError


def spec(name):
    (found,) = [g for g in scenario.load("dirty-guests").guests if g.name == name]
    return found


def test_dirty_guests_runs_calm_busy_and_hot_on_hosta_at_rates_either_side_of_each_link():
    """The LAN carries ~11.4 MiB/s and the fast link ~114 MiB/s (95.6 and 956 Mb/s measured)."""
    found = {g.name: (g.host, g.memory_mib, g.dirty_mib_s) for g in scenario.load("dirty-guests").guests}

    assert found == {"calm": ("hosta", 256, 2), "busy": ("hosta", 256, 30), "hot": ("hosta", 256, 200)}


def test_the_payload_is_told_its_rate_and_working_set_in_pages():
    assert guests.dirtier_cmdline(spec("busy")) == "dirty_pages_per_s=7680 working_set_pages=57344"


def test_a_dirtying_guest_boots_the_payload_with_seabios_and_stops_on_reboot():
    root = ElementTree.fromstring(guests.guest_xml(spec("calm"), "kvm", None))

    assert root.findtext("os/kernel") == str(guests.PAYLOAD)
    assert root.findtext("os/cmdline") == "dirty_pages_per_s=512 working_set_pages=57344"
    assert root.find("os/loader") is None and root.find("os/bios") is None
    assert root.findtext("on_reboot") == "destroy"


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"dirty_mib_s": -1}, "dirty_mib_s not negative"),
        ({"dirty_mib_s": 5, "memory_mib": 32}, "memory_mib of 48 or more"),
        ({"dirty_mib_s": True}, "'dirty_mib_s' is not one of"),
        ({"working_set_mib": "all"}, "'working_set_mib' is not one of"),
    ],
)
def test_bad_dirtying_settings_are_refused_naming_the_guest(settings, message):
    with pytest.raises(LabError, match=message) as caught:
        scenario._guests("x", {"g": settings}, scenario.load("dirty-guests").hosts)

    assert "guest g" in str(caught.value)


def test_the_payload_assembles_to_a_multiboot_kernel_of_a_few_hundred_bytes(tmp_path, monkeypatch):
    monkeypatch.setattr(guests, "PAYLOAD", tmp_path / "dirtier.elf")

    built = guests.build_payload()

    size = subprocess.run(["size", "-A", str(built)], capture_output=True, text=True, check=True).stdout
    text = int(next(line.split()[1] for line in size.splitlines() if line.startswith(".text")))
    assert 200 < text < 1024
    assert built.read_bytes()[:4] == b"\x7fELF" and (0x1BADB002).to_bytes(4, "little") in built.read_bytes()[:8192]
