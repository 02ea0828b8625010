"""Validate first, act later: every bad option, drop-in check or output target is refused in one
line naming it, exit 2, before any host is contacted (the hosts here are an SSH port nothing
listens on: contacting them would say "ssh ... failed" instead) and before any report is written."""

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

DATA = Path(__file__).parents[2] / "data" / "facts"
SEED = str(DATA / "seed-report.json")
UNREACHABLE = ("ssh://root@127.0.0.1:1", "ssh://root@127.0.0.2:1")  # two hosts: one twice is refused
DROP_IN_EXITS = "import sys\nsys.exit(0)\n"
DROP_IN_BAD_SEVERITY = (
    "from migdoctor.checkapi import Registry, passed\nregistry = Registry()\n"
    "@registry.check('site.x', 'X', 'urgent')\ndef x(pair):\n    return passed('x')\n"
)


def migdoctor(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    (cwd / "empty.toml").write_text("")  # never the inventory of a lab that happens to run
    env = {**os.environ, "MIGDOCTOR_INVENTORY": str(cwd / "empty.toml")}
    return subprocess.run(
        [sys.executable, "-m", "migdoctor", *args], capture_output=True, text=True, timeout=30, cwd=cwd, env=env
    )


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--only", "dnss"], "--only dnss: no check has that id or area"),
        (
            ["--test-migration", "--domain", "web1", "--yes", "--only", "migraton"],
            "--only migraton: no check has that id or area",
        ),
        (["--ignore", "firewall.migration-port"], "--ignore firewall.migration-port: no check has that id or area"),
        (["--migration-network", "fast"], "--migration-network: migration network 'fast' is not an IPv4 or IPv6 prefix"),
        (["--migration-network", "10.0.0.0/33"], "--migration-network: migration network '10.0.0.0/33' is not"),
        (["--output", "/dev/null"], "/dev/null: not a regular file (device, FIFO or socket); refusing"),
        (["--output", "."], ".: a directory; refusing to write a report there"),
        (["--checks-dir", "exits"], "exits/site.py: SystemExit: 0"),
        (["--checks-dir", "severity"], "file severity/site.py: site.x: severity 'urgent' is not one of"),
        (["--inventory", "inventory.toml"], "inventory.toml: (top): Additional properties are not allowed ('host'"),
        (["--min-rate-fraction", "1.5"], "Invalid value for '--min-rate-fraction'"),
        (["--timeout", "0"], "Invalid value for '--timeout'"),
        (["--min-rate", "-1"], "Invalid value for '--min-rate'"),
    ],
    ids=[
        "only-typo", "only-typo-after-domain-yes", "ignore-typo", "network-name", "network-prefix", "output-device",
        "output-directory", "drop-in-exits", "drop-in-metadata", "inventory-typo", "fraction", "timeout", "min-rate",
    ],
)  # fmt: skip
def test_bad_option_is_refused_before_any_host_is_contacted(tmp_path: Path, options: list[str], message: str) -> None:
    for name, source in (("exits", DROP_IN_EXITS), ("severity", DROP_IN_BAD_SEVERITY)):
        (tmp_path / name).mkdir()
        (tmp_path / name / "site.py").write_text(source)
    (tmp_path / "inventory.toml").write_text('[host.kvm1]\ntransport = "local"\n')

    result = migdoctor("check", *UNREACHABLE, *options, cwd=tmp_path)

    assert result.returncode == 2, result.stderr
    assert message in result.stderr and "ssh to" not in result.stderr, result.stderr
    assert not (tmp_path / "reports").exists()


def test_one_facts_record_for_both_sides_is_named(tmp_path: Path) -> None:
    facts = tmp_path / "hostb.json"
    subprocess.run(
        [sys.executable, "-c", f"import json; print(json.dumps(json.load(open({SEED!r}))['facts']['destination']))"],
        stdout=facts.open("w"),
        check=True,
    )

    result = migdoctor("check", "a", "b", "--facts", str(facts), str(facts), cwd=tmp_path)

    assert result.returncode == 2
    assert result.stderr == (
        "migdoctor: a -> b: one facts record (hostb.lab.test) for both; a host does not migrate to itself; "
        "no pair is left to judge\n"
    )


@pytest.mark.parametrize(
    ("options", "message"),
    [(["--route-to", "kvm2"], "--route-to kvm2: not an IP address"), (["--reverse", "1.2.3"], "--reverse 1.2.3: not")],
)
def test_facts_look_up_options_are_validated_before_contacting(
    tmp_path: Path, options: list[str], message: str
) -> None:
    result = migdoctor("facts", UNREACHABLE[0], *options, cwd=tmp_path)

    assert result.returncode == 2 and result.stderr.startswith(f"migdoctor: {message}"), result.stderr


@pytest.fixture
def odd_files(tmp_path: Path) -> Iterator[Path]:
    """Files a new user may name by mistake: a FIFO, a socket, a sparse file past 64 MiB."""
    os.mkfifo(tmp_path / "fifo.json")
    listening = socket.socket(socket.AF_UNIX)
    listening.bind(str(tmp_path / "socket.json"))
    with open(tmp_path / "huge.json", "wb") as huge:
        huge.truncate(65 * 2**20)
    yield tmp_path
    listening.close()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["check", "a", "b", "--facts", "/bin/sh", "/bin/sh"], "/bin/sh: not UTF-8 text (byte "),
        (["check", "a", "b", "--facts", "huge.json", "huge.json"], "huge.json: larger than 64 MiB, not a migdoctor"),
        (["check", "a", "b", "--inventory", "/bin/sh"], "/bin/sh: not UTF-8 text (byte "),
        (["report", "validate", "/bin/sh"], "/bin/sh: not UTF-8 text (byte "),
        (["check", "a", "b", "--facts", "/etc", "/etc"], "/etc: not a regular file (a directory)"),
        (["check", "a", "b", "--facts", "fifo.json", "fifo.json"], "fifo.json: not a regular file (a FIFO)"),
        (["check", "a", "b", "--facts", "socket.json", "socket.json"], "socket.json: not a regular file (a socket)"),
        (["check", "a", "b", "--facts", "/dev/zero", "/dev/zero"], "/dev/zero: not a regular file (a device)"),
        (["check", "a", "b", "--inventory", "fifo.json"], "fifo.json: not a regular file (a FIFO)"),
        (["check", "a", "b", "--inventory", "/dev/tty"], "/dev/tty: not a regular file (a device)"),
        (["report", "validate", "fifo.json"], "fifo.json: not a regular file (a FIFO)"),
        (["report", "render", "socket.json"], "socket.json: not a regular file (a socket)"),
        (["report", "diff", "/dev/zero", "fifo.json"], "/dev/zero: not a regular file (a device)"),
    ],
    ids=[
        "binary-facts",
        "endless-facts",
        "binary-inventory",
        "binary-report",
        "directory-facts",
        "fifo-facts",
        "socket-facts",
        "device-facts",
        "fifo-inventory",
        "tty-inventory",
        "fifo-report",
        "socket-report",
        "device-report",
    ],
)
def test_input_files_that_are_not_text_are_one_line_errors(odd_files: Path, argv: list[str], message: str) -> None:
    result = migdoctor(*argv, cwd=odd_files)

    assert result.returncode in (1, 2) and result.stderr.startswith(f"migdoctor: {message}"), result.stderr
    assert len(result.stderr.splitlines()) == 1


@pytest.mark.parametrize(
    ("command", "option", "value"),
    [
        ("check", "--min-link-speed", "99999999999999999999"),
        ("check", "--forks", "99999999999999999999"),
        ("check", "--canary-memory", "99999999999999999999"),
        ("check", "--timeout", "nan"),
        ("check", "--timeout", "1e308"),
        ("check", "--min-rate", "inf"),
        ("check", "--min-rate", "nan"),
        ("check", "--min-rate-fraction", "nan"),
        ("migrate-test", "--timeout", "inf"),
        ("migrate-test", "--canary-memory", "18446744073709551616"),
        ("migrate-test", "--min-rate", "1e999"),
        ("watch", "--interval", "nan"),
        ("watch", "--interval", "inf"),
    ],
)
def test_out_of_range_numbers_are_refused_by_name_before_any_host(
    tmp_path: Path, command: str, option: str, value: str
) -> None:
    extra = ["--test-migration"] if option == "--canary-memory" and command == "check" else []

    result = migdoctor(command, *UNREACHABLE, *extra, option, value, cwd=tmp_path)

    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    assert f"Invalid value for '{option}': {value}" in result.stderr or f"Invalid value for '{option}': '{value}'" in (
        result.stderr
    ), result.stderr
    assert not (tmp_path / "reports").exists()


@pytest.mark.parametrize("stem", ["", ".", "..", "reports/", "reports/.."])
def test_an_output_stem_naming_a_directory_is_refused(tmp_path: Path, stem: str) -> None:
    result = migdoctor("check", "a", "b", "--facts", SEED, SEED, "--output-stem", stem, cwd=tmp_path)

    assert result.returncode == 2
    assert result.stderr == (
        f"migdoctor: --output-stem {stem!r}: names a directory, not the start of a file name (such as reports/kvm1-kvm2)\n"
    )
    assert sorted(os.listdir(tmp_path)) == ["empty.toml"]


@pytest.mark.parametrize("given", ["same", "symlink", "stem", "inventory"])
def test_a_report_is_never_written_over_an_input(tmp_path: Path, given: str) -> None:
    source, destination = tmp_path / "hosta.json", tmp_path / "hostb.json"
    for path, side in ((source, "source"), (destination, "destination")):
        path.write_text(json.dumps(json.loads(Path(SEED).read_text())["facts"][side]))
    (tmp_path / "latest.json").symlink_to(destination)
    (tmp_path / "empty.toml").write_text("")
    before = {path.name: path.read_bytes() for path in tmp_path.iterdir()}
    output = {
        "same": ["--output", str(source)],
        "symlink": ["--output", "latest.json"],
        "stem": ["--output-stem", str(tmp_path / "hostb")],
        "inventory": ["--inventory", "empty.toml", "--output", "empty.toml"],
    }[given]

    result = migdoctor("check", "hosta", "hostb", "--facts", str(source), str(destination), *output, cwd=tmp_path)

    assert result.returncode == 2
    assert result.stderr.startswith("migdoctor: ") and "refusing to write a report over it" in result.stderr
    assert len(result.stderr.splitlines()) == 1
    assert {path.name: path.read_bytes() for path in tmp_path.iterdir()} == before


@pytest.mark.parametrize(
    "argv", [["render", "r.json", "--output", "r.json"], ["diff", "r.json", "r.json", "--output", "r.json"]]
)
def test_report_render_and_diff_never_write_over_their_input(tmp_path: Path, argv: list[str]) -> None:
    (tmp_path / "r.json").write_text(Path(SEED).read_text())

    result = migdoctor("report", *argv, cwd=tmp_path)

    assert result.returncode == 2
    assert result.stderr == "migdoctor: r.json: the same file as the input r.json; refusing to write a report over it\n"
    assert (tmp_path / "r.json").read_text() == Path(SEED).read_text()
