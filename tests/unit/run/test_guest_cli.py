"""`check --guests/--guest` and `evacuate` as an admin meets them: what each names is refused in
one line (exit 2) before any host is contacted when it cannot be right. Saved lab facts and a
TOML inventory of hosts nothing listens for stand in; no host is contacted."""

import json
from pathlib import Path

import pytest
from cli_runs import migdoctor

INVENTORY = """
[hosts.kvm1]
[hosts.kvm2]
[groups]
rack1 = ["kvm1", "kvm2"]
lonely = ["kvm1"]
"""


@pytest.fixture
def inventory(tmp_path: Path) -> str:
    path = tmp_path / "inventory.toml"
    path.write_text(INVENTORY, encoding="utf-8")
    return str(path)


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (
            ["check", "kvm1", "kvm2", "--guests", "--guest", "web"],
            "--guests judges every running guest; --guest web names one: give one of them",
        ),
        (["check", "kvm1", "kvm2", "--guest", " "], "--guest ' ': not a guest name (libvirt names are not blank"),
        (["check", "kvm1", "kvm2", "--guest", "a/b"], "--guest 'a/b': not a guest name"),
        (["evacuate", "kvm1", "--guest", ""], "--guest '': not a guest name"),
        (
            ["check", "--all", "--guests", "-i", "INVENTORY"],
            "--guests and --guest judge the guests of one source: name SRC DST..., not --all",
        ),
        (
            ["evacuate", "kvm1", "kvm2", "--group", "rack1", "-i", "INVENTORY"],
            "--group rack1 chooses the destinations when no DST is named: give one of them",
        ),
        (["evacuate", "kvm1", "--group", "rack9", "-i", "INVENTORY"], "--group rack9: no such group in"),
        (
            ["evacuate", "kvm1", "--group", "lonely", "-i", "INVENTORY"],
            "evacuate kvm1: no other host in group lonely to move its guests to; name DST...",
        ),
        (
            ["check", "kvm1", "kvm2", "--guests", "--test-migration", "--domain", "web"],
            "--domain web: migrating an existing domain needs --yes",
        ),
        (
            ["evacuate", "kvm1"],
            "evacuate kvm1: no other host in /dev/null to move its guests to; name DST...",
        ),
    ],
    ids=[
        *("both", "blank", "slash", "evacuate-blank", "all", "group-and-dst", "no-group", "group-alone"),
        *("domain-needs-yes", "no-inventory"),
    ],
)
def test_a_guest_selection_that_cannot_be_right_is_one_line_and_exit_2(tmp_path, inventory, args, line) -> None:
    done = migdoctor(tmp_path, *[inventory if arg == "INVENTORY" else arg for arg in args])

    assert done.returncode == 2, done.stdout
    assert done.stderr.startswith(f"migdoctor: {line}") and done.stderr.count("\n") == 1, done.stderr
    assert not (tmp_path / "reports").exists()


def test_evacuate_help_names_its_guest_option_and_no_test_migration(tmp_path) -> None:
    usage = migdoctor(tmp_path, "evacuate", "--help").stdout

    assert "--guest NAME" in usage and "[DST...]" in usage and "--test-migration" not in usage


@pytest.mark.parametrize(
    ("args", "destinations"),
    [([], ["kvm2", "kvm3"]), (["--group", "pair"], ["kvm3"]), (["kvm3"], ["kvm3"])],
    ids=["every-other", "group", "named"],
)
def test_evacuate_takes_the_destinations_named_else_every_other_host(tmp_path, facts_dir, args, destinations) -> None:
    inventory = tmp_path / "inventory.toml"
    inventory.write_text('[hosts.kvm1]\n[hosts.kvm2]\n[hosts.kvm3]\n[groups]\npair = ["kvm1", "kvm3"]\n')
    output = tmp_path / "report.json"

    done = migdoctor(
        tmp_path,
        "evacuate",
        "kvm1",
        *args,
        "-i",
        str(inventory),
        "--facts-dir",
        str(facts_dir),
        "--output",
        str(output),
    )

    report = json.loads(output.read_text())
    assert [pair["destination"] for pair in report["pairs"]] == destinations
    assert report["guests_unknown"]  # these facts were collected without guests: at least exit 2
    assert done.returncode == report["exit_status"] == 1  # kvm1 -> kvm3 fails, which outranks it
