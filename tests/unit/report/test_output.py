"""Writing the report as root: through a symlink as the shell does, never over a device, FIFO or
directory, fsync before the rename, and no temporary file left on any error, Ctrl-C included."""

import os
from pathlib import Path

import pytest

from migdoctor.report import output
from migdoctor.report.output import OutputError, write_atomically


def test_writes_through_a_symlink_and_keeps_it(tmp_path: Path) -> None:
    real = tmp_path / "shared" / "report.json"
    real.parent.mkdir()
    real.write_text("old\n")
    link = tmp_path / "latest.json"
    link.symlink_to(real)

    write_atomically(link, "new\n")

    assert link.is_symlink() and os.readlink(link) == str(real)
    assert real.read_text() == "new\n"
    assert sorted(os.listdir(real.parent)) == ["report.json"]


def test_dangling_symlink_creates_its_target(tmp_path: Path) -> None:
    link = tmp_path / "latest.json"
    link.symlink_to(tmp_path / "made.json")

    write_atomically(link, "new\n")

    assert link.is_symlink() and (tmp_path / "made.json").read_text() == "new\n"


@pytest.mark.parametrize("kind", ["fifo", "directory", "device", "symlink-to-device"])
def test_special_files_are_refused_and_left_alone(tmp_path: Path, kind: str) -> None:
    target = tmp_path / "target"
    if kind == "fifo":
        os.mkfifo(target)
    elif kind == "directory":
        target.mkdir()
    elif kind == "device":
        target = Path("/dev/null")
    else:
        target.symlink_to("/dev/full")

    with pytest.raises(OutputError, match=f"^{target}: .*refusing to write a report there$"):
        write_atomically(target, "x\n")

    assert not target.is_file()
    assert [
        p for d in (tmp_path, Path("/dev")) for p in os.listdir(d) if p.startswith((".target.", ".null.", ".full."))
    ] == []


def test_fsync_comes_before_the_rename(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    real_fsync, real_replace = os.fsync, os.replace
    monkeypatch.setattr(output.os, "fsync", lambda fd: (calls.append("fsync"), real_fsync(fd))[1])
    monkeypatch.setattr(output.os, "replace", lambda a, b: (calls.append("replace"), real_replace(a, b))[1])

    write_atomically(tmp_path / "report.json", "x\n")

    assert calls == ["fsync", "replace", "fsync"]  # the file, the rename, the directory


@pytest.mark.parametrize("error", [KeyboardInterrupt, OSError(28, "No space left on device")])
def test_no_temporary_file_is_left_on_any_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, error) -> None:
    target = tmp_path / "report.json"
    target.write_text("the previous report\n")

    def interrupted(fd: int) -> None:
        raise error

    monkeypatch.setattr(output.os, "fsync", interrupted)
    with pytest.raises((KeyboardInterrupt, OutputError)):
        write_atomically(target, "x\n")

    assert os.listdir(tmp_path) == ["report.json"]
    assert target.read_text() == "the previous report\n"


def test_a_file_written_through_a_symlink_keeps_its_mode_and_owner(tmp_path: Path) -> None:
    real = tmp_path / "private" / "report.json"
    real.parent.mkdir()
    real.write_text("old\n")
    real.chmod(0o600)
    os.chown(real, 65534, 65534)  # as root, as the tool runs; nobody's file stays nobody's
    link = tmp_path / "latest.json"
    link.symlink_to(real)

    write_atomically(link, "new\n")

    found = os.stat(real)
    assert real.read_text() == "new\n"
    assert (found.st_mode & 0o7777, found.st_uid, found.st_gid) == (0o600, 65534, 65534)


def test_a_new_file_takes_the_umask(tmp_path: Path) -> None:
    umask = os.umask(0o027)
    try:
        write_atomically(tmp_path / "report.json", "x\n")
    finally:
        os.umask(umask)

    assert os.stat(tmp_path / "report.json").st_mode & 0o7777 == 0o640


def test_an_output_that_is_an_input_by_another_name_is_refused(tmp_path: Path) -> None:
    facts = tmp_path / "kvm1.json"
    facts.write_text("{}\n")
    (tmp_path / "link.json").symlink_to(facts)
    os.link(facts, tmp_path / "hard.json")

    for name in ("kvm1.json", "link.json", "hard.json"):
        with pytest.raises(OutputError, match=rf"^{tmp_path / name}: the same file as the input {facts}; refusing"):
            output.real_target(tmp_path / name, [facts, tmp_path / "absent.json"])
    assert output.real_target(tmp_path / "other.json", [facts]) == tmp_path / "other.json"
