"""The resident part of a guest's RAM, read from a real QEMU's /proc/PID/smaps."""

from pathlib import Path

import pytest

from migdoctor.farside.guestram import guest_named, mappings, resident_kib

SMAPS = (Path(__file__).resolve().parents[1] / "fixtures" / "smaps" / "canary-64mib-payload.smaps").read_text()


def test_the_ram_block_is_the_mapping_of_the_guests_size():
    """64 MiB of payload and 2 MiB the firmware touched; not the loader's 64 MiB copy of the
    payload file nor QEMU's own memory, which libvirt's rss (164,756 KiB) counts."""
    assert resident_kib(SMAPS, 131072) == 67584


def test_no_mapping_of_that_size_is_none():
    assert resident_kib(SMAPS, 4 << 20) is None


def test_hugetlb_pages_count():
    smaps = "7f0000000000-7f0040000000 rw-s 00000000 00:2e 1234 /dev/hugepages/libvirt/qemu/1-db/qemu_back_mem\nSize: 1048576 kB\nRss: 0 kB\nShared_Hugetlb: 0 kB\nPrivate_Hugetlb: 524288 kB\n"
    assert resident_kib(smaps, 1048576) == 524288


def test_every_mapping_is_read():
    assert len(list(mappings(SMAPS))) == 15


@pytest.mark.parametrize(
    ("argv", "name"),
    [
        # as libvirt 9.0 starts a guest (the lab's canary), and one whose name has a comma: QEMU doubles it
        (["/usr/bin/qemu-system-x86_64", "-name", "guest=web,debug-threads=on", "-S"], "web"),
        (["/usr/bin/qemu-system-x86_64", "-name", "guest=db,,eu,debug-threads=on"], "db,eu"),
        (["/usr/bin/qemu-system-x86_64", "-name", "guest=last"], "last"),
        (["/usr/bin/python3", "-c", "print('guest=web,')"], None),  # not a QEMU
        (["/usr/bin/qemu-system-x86_64", "-machine", "pc"], None),  # a QEMU libvirt did not name
        ([], None),
    ],
)
def test_a_qemu_is_known_by_the_guest_name_libvirt_gives_it(argv, name):
    assert guest_named(argv) == name
