"""The guests a scenario starts, as data: what each becomes (its disk's place, its bridge, its CPU
mode), the private mounts and bridges its hosts get, and one-line errors for a guest the lab
could not make. tests/lab/test_guests_lab.py starts them for real."""

import re
from pathlib import Path
from xml.etree import ElementTree

import pytest

from migdoctor.lab import guests, hostfs, layout, scenario
from migdoctor.lab.errors import LabError


def test_the_guests_scenario_runs_four_guests_on_hosta_with_a_bridge_only_hosta_has():
    scn = scenario.load("guests")

    assert [(spec.name, spec.host, spec.disk, spec.bridge) for spec in scn.guests] == [
        ("web", "hosta", None, None),
        ("db", "hosta", "shared", None),
        ("scratch", "hosta", "local", None),
        ("isolated", "hosta", None, "br-app"),
    ]
    assert scn.hosts["hosta"].bridges == ["br-app"] and scn.hosts["hostb"].bridges == []
    shared = (layout.STATE_DIR / layout.SHARED_GUEST_DIR[0], layout.SHARED_GUEST_DIR[1])
    assert all(shared in hostfs.mounts(h, scn.hosts[h.name]) for h in scn.lab_hosts)


def test_each_guest_is_the_canary_with_its_disk_interface_and_cpu():
    scn = scenario.load("guests")
    db, isolated = scn.guests[1], scn.guests[3]
    seen_as = guests.disk_paths(db)

    root = ElementTree.fromstring(guests.guest_xml(db, "kvm", seen_as[1] if seen_as else None))
    assert root.get("type") == "kvm" and root.findtext("memory") == "64"
    assert root.find("devices/disk/source").get("file") == "/srv/migdoctor-lab-shared/db.img"
    assert root.find("devices/disk/driver").get("cache") == "none"
    bridged = ElementTree.fromstring(guests.guest_xml(isolated, "kvm", None))
    assert bridged.find("devices/interface/source").get("bridge") == "br-app"
    passthrough = scenario.load("guests-no-kvm-destination").guests[0]
    cpu = ElementTree.fromstring(guests.guest_xml(passthrough, "kvm", None)).find("cpu")
    assert cpu is not None and cpu.get("mode") == "host-passthrough"


def test_a_local_disk_is_in_its_hosts_own_images_directory():
    scratch = scenario.load("guests").guests[2]

    image, seen_as = guests.disk_paths(scratch)

    assert image == layout.host("hosta").dir / "lib-libvirt" / "images" / "scratch.img"
    assert seen_as == "/var/lib/libvirt/images/scratch.img"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[guests.db]\ndisk = 'shared'\n", "guest db: a shared disk needs shared_storage = true on hosta"),
        ("[guests.db]\ndisk = 'nfs'\n", "guest db: disk must be one of shared, local"),
        ("[guests.app]\nbridge = 'br-app'\n", "guest app: hosta has no bridge br-app (add it to its bridges)"),
        ("[guests.app]\nhost = 'hostc'\n", "guest app: host hostc is not in this lab"),
        ("[guests.app]\nmemory = 64\n", "guest app: 'memory' is not one of host, memory_mib, disk"),
    ],
)
def test_a_guest_the_lab_cannot_make_is_a_one_line_error(tmp_path, monkeypatch, text, message):
    (tmp_path / "_base.toml").write_text((Path(scenario.__file__).parent / "scenarios" / "_base.toml").read_text())
    (tmp_path / "broken.toml").write_text(text)
    monkeypatch.setattr(scenario, "_dir", lambda: tmp_path)

    with pytest.raises(LabError, match=re.escape(message)):
        scenario.load("broken")
