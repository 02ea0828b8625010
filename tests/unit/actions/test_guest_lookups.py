"""The storage marker between two hosts, each a directory of this machine standing for its root:
a disk both see (the same directory) is proven the same, one only the source has is not, the
marker never outlives the look-up (not even when the destination fails), and the far-side halves
name filesystems as libvirt's shared-filesystem rule does."""

from pathlib import Path
from typing import Any

import pytest

from migdoctor.actions.guests import BLOCK_DEVICE, disk_paths, storage_lookups
from migdoctor.farside import commands, marker
from migdoctor.transports import Host, Transport, TransportError

FIXTURES = Path(__file__).parents[1] / "fixtures" / "guests"


class Rooted(Transport):
    """A host whose / is ROOT on this machine; far-side calls run here, paths translated. A
    directory linked into two roots is storage both hosts see."""

    def __init__(self, label: str, root: Path, fails: str | None = None) -> None:
        super().__init__(Host(label, "ssh", label))
        self.root, self.fails = root, fails

    def far_side_argv(self) -> list[str]:
        raise AssertionError("no far side is started here")

    def inside(self, path: str | None) -> str | None:
        return None if path is None else str(self.root) + path

    def outside(self, path: str | None) -> str | None:
        return None if path is None else path.removeprefix(str(self.root))

    def call(self, name: str, /, **args: Any) -> Any:
        if name == self.fails:
            raise TransportError(f"{self.label}: far-side {name!r} failed: OSError: Input/output error")
        if name == "marker-place":
            placed = commands.marker_place([self.inside(path) for path in args["paths"]])
            return [
                {**item, "path": self.outside(item["path"]), "marker": self.outside(item["marker"])} for item in placed
            ]
        if name == "marker-look":
            asked = [{"path": self.inside(i["path"]), "marker": self.inside(i["marker"])} for i in args["markers"]]
            return [{**item, "path": self.outside(item["path"])} for item in commands.marker_look(asked)]
        if name == "marker-remove":
            return commands.marker_remove([self.inside(m) for m in args["markers"]])
        raise AssertionError(name)


def guest(name: str, disks: str) -> dict[str, Any]:
    return {"name": name, "xml": f"<domain type='kvm'><name>{name}</name><devices>{disks}</devices></domain>"}


def file_disk(path: str, target: str = "vda") -> str:
    return f"<disk type='file' device='disk'><source file='{path}'/><target dev='{target}'/></disk>"


@pytest.fixture
def hosts(tmp_path: Path) -> tuple[Rooted, Rooted]:
    """hosta and hostb: both see /shared (one directory), each has its own /local."""
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "db.img").write_bytes(bytes(512))
    for name in ("hosta", "hostb"):
        (tmp_path / name / "local").mkdir(parents=True)
        (tmp_path / name / "shared").symlink_to(shared)
    (tmp_path / "hosta" / "local" / "scratch.img").write_bytes(bytes(512))
    return Rooted("hosta", tmp_path / "hosta"), Rooted("hostb", tmp_path / "hostb")


def markers_left(tmp_path: Path) -> list[str]:
    return [str(p) for p in tmp_path.rglob(f"{marker.PREFIX}*")]


def test_a_disk_both_hosts_see_is_the_same_and_one_only_the_source_has_is_not(hosts, tmp_path):
    src, dst = hosts
    guests = [guest("db", file_disk("/shared/db.img")), guest("scratch", file_disk("/local/scratch.img"))]

    found = storage_lookups(src, dst, guests)

    (db,) = found["db"]
    (scratch,) = found["scratch"]
    assert db["same"] is True and scratch["same"] is False
    assert db["exists"] is True and scratch["exists"] is False  # --copy-storage-all needs a file or a pool there
    assert db["path"] == "/shared/db.img" and db["target"] == "vda" and db["error"] is None
    assert scratch["fstype"] == marker.mount_type(str(tmp_path)) and scratch["free_bytes"] > 0
    assert markers_left(tmp_path) == [] and not commands.MARKERS


def test_the_marker_is_removed_when_the_destination_fails_and_each_disk_says_why(hosts, tmp_path):
    src, dst = hosts
    dst.fails = "marker-look"

    found = storage_lookups(src, dst, [guest("db", file_disk("/shared/db.img"))])

    assert found["db"][0]["same"] is None and "Input/output error" in found["db"][0]["error"]
    assert markers_left(tmp_path) == []


def test_a_disk_whose_directory_the_source_cannot_write_is_unknown_not_different(hosts):
    src, dst = hosts

    (entry,) = storage_lookups(src, dst, [guest("db", file_disk("/gone/db.img"))])["db"]

    assert entry["same"] is None and entry["error"].startswith("hosta: cannot write")


def test_a_block_device_is_not_proven_by_a_marker_and_a_network_disk_needs_none(hosts):
    src, dst = hosts
    disks = (
        "<disk type='block' device='disk'><source dev='/dev/sdb'/><target dev='vdb'/></disk>"
        "<disk type='network' device='disk'><source protocol='rbd' name='pool/img'/><target dev='vdc'/></disk>"
    )

    found = storage_lookups(src, dst, [guest("san", disks)])

    assert found["san"] == [
        {
            "target": "vdb",
            "path": "/dev/sdb",
            "same": None,
            "exists": None,
            "fstype": None,
            "free_bytes": None,
            "error": BLOCK_DEVICE,
        }
    ]


def test_the_disks_of_captured_migratable_xml():
    db = (FIXTURES / "db-migratable.xml").read_text()

    assert disk_paths(db) == [("vda", "file", "/srv/migdoctor-lab-shared/db.img")]
    assert disk_paths((FIXTURES / "web-migratable.xml").read_text()) == []


def test_filesystems_are_named_as_libvirts_shared_filesystem_rule_names_them(monkeypatch, tmp_path):
    monkeypatch.setattr(marker, "statfs_type", lambda path: 0x6969)  # NFS_SUPER_MAGIC, nfs and nfs4 alike
    assert marker.fs_type(str(tmp_path)) == "nfs"
    monkeypatch.setattr(marker, "statfs_type", lambda path: 0xFF534D42)  # CIFS_MAGIC_NUMBER
    assert marker.fs_type(str(tmp_path)) == "cifs"


def test_a_local_filesystem_is_named_by_its_mount(tmp_path):
    """This machine's own statfs and mountinfo: whatever holds tmp_path is not a shared type."""
    kind = marker.fs_type(str(tmp_path))

    assert kind and kind not in marker.SHARED_MAGIC.values()
    assert marker.statfs_type(str(tmp_path)) not in marker.SHARED_MAGIC


def test_remove_touches_nothing_but_a_marker(tmp_path):
    disk = tmp_path / "db.img"
    disk.write_bytes(b"data")

    assert marker.remove([str(disk)]) == [] and disk.exists()


def test_markers_a_far_side_placed_are_removed_when_it_ends(tmp_path):
    placed = commands.marker_place([str(tmp_path / "db.img")])

    commands.remove_leftovers()

    assert Path(placed[0]["marker"]).name.startswith(marker.PREFIX) and markers_left(tmp_path) == []
