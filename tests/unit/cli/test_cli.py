"""The command line as an admin meets it: fast help, one-line errors, exit statuses, reports
written and validated. Saved lab facts stand in for hosts; nothing here leaves loopback."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

DATA = Path(__file__).parents[2] / "data" / "facts"
SEED, HEALTHY = str(DATA / "seed-report.json"), str(DATA / "healthy-report.json")


def migdoctor(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "migdoctor", *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=cwd,
        env={**os.environ, "COLUMNS": "200", "MIGDOCTOR_INVENTORY": "/dev/null"},  # not the caller's
    )


def offline_check(facts: str, output: Path, *options: str) -> subprocess.CompletedProcess[str]:
    """`migdoctor check hosta hostb` judging saved lab facts on the lab's migration network."""
    return migdoctor(
        "check", "hosta", "hostb", "--facts", facts, facts, "--migration-network", "198.51.100.0/24",
        "--output", str(output), *options,
    )  # fmt: skip


def test_version_and_help() -> None:
    assert migdoctor("--version").stdout.strip().startswith("migdoctor ")
    usage = migdoctor("check", "--help").stdout
    assert "Exit status: 0" in usage and "--migration-network" in usage


def test_offline_check_of_the_seed_writes_a_valid_report(tmp_path: Path) -> None:
    report = tmp_path / "seed.json"
    result = offline_check(SEED, report)
    assert result.returncode == 1, result.stderr
    first, second = result.stdout.splitlines()[:2]
    assert first == "path: hosta a-lan 192.0.2.1 (100 Mb/s) -> hostb 192.0.2.2:49152-49215 (hostb.lab.test)"
    assert "NOT on the migration network 198.51.100.0/24" in second
    assert "\x1b[" not in result.stdout  # no colour when not on a terminal
    written = json.loads(report.read_text())
    assert written["exit_status"] == 1 and written["pairs"][0]["intent"]["decided_by"] == "--migration-network"
    assert migdoctor("report", "validate", str(report)).returncode == 0


def test_offline_healthy_passes_and_ignore_is_kept(tmp_path: Path) -> None:
    result = offline_check(HEALTHY, tmp_path / "r.json", "--format", "json")
    assert result.returncode == 0, result.stdout
    ignored = offline_check(
        SEED, tmp_path / "s.json", "--ignore", "dns.migration-host-address", "--ignore", "config",
        "--only", "dns", "--only", "config", "--format", "json",
    )  # fmt: skip
    report = json.loads(ignored.stdout)
    assert ignored.returncode == 0
    assert {f["id"] for f in report["pairs"][0]["findings"] if f["ignored"]} == {
        "dns.migration-host-address",
        "config.migration-port-range",
        "config.value-types",
    }
    assert {f["area"] for f in report["pairs"][0]["findings"]} == {"dns", "config"}


def test_markdown_for_change_requests(tmp_path: Path) -> None:
    result = offline_check(SEED, tmp_path / "r.json", "--format", "markdown")
    assert "### FAIL `dns.migration-host-address`: " in result.stdout
    assert 'Remediation: `hostb:/etc/libvirt/qemu.conf: migration_host = "hostb-fast.lab.test"`' in result.stdout


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["check", "a", "b", "--facts", "/nonexistent/a.json", SEED],
            "migdoctor: /nonexistent/a.json: cannot read facts",
        ),
        (["facts", "winrm://x"], "migdoctor: winrm://x: unknown transport"),
        (["facts", "ssh://root@127.0.0.1:1"], "migdoctor: ssh://root@127.0.0.1:1: ssh to root@127.0.0.1 failed"),
        (
            ["check", "a", "b", "--checks-dir", "/nonexistent"],
            "migdoctor: /nonexistent: --checks-dir is not a directory",
        ),
        (
            ["migrate-test", "a", "b", "--domain", "web1"],
            "migdoctor: --domain web1: migrating an existing domain needs --yes",
        ),
    ],
)
def test_bad_input_is_one_line_and_exit_2(argv: list[str], message: str, tmp_path: Path) -> None:
    result = migdoctor(*argv, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith(message) and len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_not_a_facts_record_names_the_file(tmp_path: Path) -> None:
    bogus = tmp_path / "bogus.json"
    bogus.write_text('{"identity": 1}')
    result = migdoctor("check", "a", "b", "--facts", str(bogus), SEED, "--output", str(tmp_path / "r.json"))
    assert result.returncode == 2 and result.stderr.startswith(f"migdoctor: {bogus}: not a migdoctor facts record")


def test_report_validate_rejects_a_tampered_report(tmp_path: Path) -> None:
    report = json.loads(Path(SEED).read_text())
    report["findings"][0]["status"] = "maybe"  # a schema 1 report: still validated, by its own schema
    tampered = tmp_path / "tampered.json"
    tampered.write_text(json.dumps(report))
    result = migdoctor("report", "validate", str(tampered))
    assert result.returncode == 1 and "findings/0/status" in result.stderr


def test_schema_and_checks_listing() -> None:
    schema = json.loads(migdoctor("schema").stdout)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    listing = migdoctor("checks").stdout
    assert "dns.migration-host-address" in listing and "built-in" in listing


@pytest.mark.parametrize("field", ["started_at", "ended_at"])
def test_report_validate_enforces_date_time(tmp_path: Path, field: str) -> None:
    report = json.loads(Path(SEED).read_text())
    report[field] = "yesterday at noon"
    tampered = tmp_path / "tampered.json"
    tampered.write_text(json.dumps(report))

    result = migdoctor("report", "validate", str(tampered))

    assert result.returncode == 1
    assert (
        result.stderr
        == f"migdoctor: {tampered}: report does not match its schema: {field}: 'yesterday at noon' is not a 'date-time'\n"
    )


def test_ignore_with_a_reason_and_change_ref_are_recorded(tmp_path: Path) -> None:
    reason = "migration_host set in CHG-7, Friday"
    result = offline_check(
        SEED, tmp_path / "r.json", "--ignore", f"dns.migration-host-address={reason}", "--ignore", "config",
        "--change-ref", "CHG-7", "--format", "markdown",
    )  # fmt: skip

    report = json.loads((tmp_path / "r.json").read_text())
    assert report["accepted_risks"] == [
        {"id": "dns.migration-host-address", "reason": reason},
        {"id": "config", "reason": None},
    ]
    assert report["run_by"]["change_ref"] == "CHG-7"
    assert f"--ignore 'dns.migration-host-address={reason}'" in report["run_by"]["command"]
    assert "| `dns.migration-host-address` |" in result.stdout.split("## Accepted risks")[1]
    assert "for CHG-7" in result.stdout.split("## ")[0]


def test_ignore_without_an_id_is_one_line(tmp_path: Path) -> None:
    result = offline_check(SEED, tmp_path / "r.json", "--ignore", "=because")

    assert result.returncode == 2
    assert result.stderr == "migdoctor: --ignore '=because': names no check before '=' (ID=REASON)\n"


def test_render_takes_the_format_from_the_output_suffix(tmp_path: Path) -> None:
    offline_check(SEED, tmp_path / "r.json")

    migdoctor("report", "render", str(tmp_path / "r.json"), "--output", str(tmp_path / "r.html"))
    short = migdoctor("report", "render", str(tmp_path / "r.json"), "--format", "md")

    assert (tmp_path / "r.html").read_text().startswith("<!DOCTYPE html>")
    assert short.returncode == 0 and short.stdout.startswith("# Migration path check: hosta -> hostb\n")
