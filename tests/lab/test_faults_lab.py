"""Bounded under faults, against the lab's real daemons: a source whose only nameserver is dead
(glibc's default resolver time-outs, ~10 s per getaddrinfo) still gets its whole check in well
under 15 s with the cause named; a far host answering with something that is not a facts record
(a wrapper's output, another migdoctor version) is that host's one-line error, exit 2."""

import json
import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
import tomli_w

pytestmark = pytest.mark.lab

MIGDOCTOR = str(Path(sys.prefix) / "bin" / "migdoctor")


def check(tmp_path: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], float]:
    argv = [MIGDOCTOR, "check", "hosta", "hostb", "--format", "json", "--output", str(tmp_path / "r.json"), *args]
    started = time.monotonic()
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    return done, time.monotonic() - started


def test_dead_nameserver_on_the_source_is_named_within_15_seconds(lab_scenario, tmp_path):
    lab = lab_scenario("source-dns-dead")
    resolv = lab.run("hosta", "cat", "/etc/resolv.conf").stdout
    assert "options" not in resolv  # glibc's defaults: 5 s per try, 2 tries

    done, wall = check(tmp_path)

    assert wall < 15, f"check took {wall:.1f} s"
    report = json.loads(done.stdout)
    finding = next(f for f in report["pairs"][0]["findings"] if f["id"] == "dns.migration-host-resolves")
    assert done.returncode == 1 and finding["status"] == "fail"
    assert "does not resolve on hosta: DNS did not answer in time" in finding["summary"]
    probe = next(f for f in report["pairs"][0]["findings"] if f["id"] == "probe.migration-port")
    assert probe["status"] == "fail" and "no answer within" in probe["summary"]


def far_side(tmp_path: Path, lab, body: str) -> Path:
    """An inventory whose remote_command for hostb is a script printing BODY's output instead."""
    script = tmp_path / "fake-migdoctor"
    script.write_text(f"#!/bin/sh\n{body}\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    inventory = lab.inventory()
    inventory["hosts"]["hostb"]["remote_command"] = str(script)
    path = tmp_path / "inventory.toml"
    path.write_text(tomli_w.dumps(inventory))
    return path


# The far side's answers pass through this filter, which rewrites the facts record it sends.
REWRITE_FACTS = """
import json, sys
for line in sys.stdin:
    message = json.loads(line) if line.startswith('{"id"') else {}
    record = message.get("result")
    if isinstance(record, dict) and "schema_version" in record:
        message["result"] = %s
        line = json.dumps(message) + "\\n"
    sys.stdout.write(line)
    sys.stdout.flush()
"""
OTHER_VERSION = '{**record, "tool_version": "9.0.0", "schema_version": "3", "paths": record.pop("routes")}'


@pytest.mark.parametrize(
    ("rewrite", "message"),
    [
        ('{"hello": 1}', "migdoctor: hostb: not a migdoctor facts record: (top): 'schema_version' is a required"),
        (OTHER_VERSION, "migdoctor: hostb: facts from migdoctor 9.0.0 (facts schema 3), but this control node runs migdoctor "),
        (None, "migdoctor: hostb: the far side did not answer as migdoctor's: b'{\"hello\": 1}"),
    ],
    ids=["not-facts", "other-version", "not-a-far-side"],
)  # fmt: skip
def test_far_host_sending_what_is_not_facts_is_named(lab_scenario, tmp_path, rewrite, message):
    lab = lab_scenario("healthy")
    rewriter = tmp_path / "rewrite.py"
    rewriter.write_text(REWRITE_FACTS % rewrite)
    body = f'{MIGDOCTOR} "$@" | {sys.executable} -u {rewriter}' if rewrite else "echo '{\"hello\": 1}'"
    inventory = far_side(tmp_path, lab, body)

    done, _ = check(tmp_path, "--inventory", str(inventory), "--no-probe")

    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith(message), done.stderr
    assert "internal error" not in done.stderr and len(done.stderr.splitlines()) == 1
    assert os.path.exists(tmp_path / "r.json")


GONE = (
    "add table inet gone ; "
    "add chain inet gone in { type filter hook input priority -300 ; policy drop ; } ; "
    "add chain inet gone out { type filter hook output priority -300 ; policy drop ; }"
)


def test_destination_gone_mid_migration_the_clean_up_is_bounded_and_says_what_is_left(lab_scenario, tmp_path):
    """hostb drops every packet (a host that lost its network, no RST): the migration stalls, the
    control connections to hostb go silent. The run still ends in bounded time, cleans hosta, and
    the report names exactly what is left on hostb."""
    from migdoctor.actions.migration import ABORT_WAIT_S, CLEANUP_BUDGET_S, STEP_BUDGET_S

    lab = lab_scenario("seed")
    output = tmp_path / "trial.json"
    argv = [
        MIGDOCTOR,
        "migrate-test",
        "hosta",
        "hostb",
        "--canary-memory",
        "256",
        "--timeout",
        "8",
        "--output",
        str(output),
    ]
    started = time.monotonic()
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        lab.wait_for_canary_migration(timeout=30)
        lab.run("hostb", "nft", GONE)
        process.wait(timeout=300)
        wall = time.monotonic() - started
        assert output.exists(), process.stderr.read() if process.stderr else ""
        report = json.loads(output.read_text())
        cleanup = report["pairs"][0]["migration_trial"]["cleanup"]
        name = report["pairs"][0]["migration_trial"]["domain"]
        hosta = lab.run("hosta", "virsh", "-c", "qemu:///system", "list", "--all", "--name").stdout
    finally:
        if process.poll() is None:
            process.kill()
        lab.down()  # hostb's leftovers: the lab's tear-down ends its qemu and removes its files

    assert process.returncode == 1, process.stderr.read() if process.stderr else ""
    # set-up, --timeout, the aborted migration's end, the counters after it, the clean-up
    assert wall < 10 + 8 + ABORT_WAIT_S + STEP_BUDGET_S + CLEANUP_BUDGET_S, f"took {wall:.0f} s"
    assert name not in hosta  # hosta was cleaned all the same
    assert [note.split(":")[0] for note in cleanup] == ["hostb"], cleanup
    assert cleanup[0].startswith(f"hostb: clean-up incomplete, remove by hand: canary {name} (libvirt: ")
    assert f"payload /var/tmp/{name}.payload" in cleanup[0]
    finding = report["pairs"][0]["findings"][0]
    assert finding["status"] == "fail" and any("clean-up incomplete" in str(e["actual"]) for e in finding["evidence"])
