"""The far side for real on this machine: the installed one (local transport) and a bare python3
booted with the bundle exactly as over SSH, without SSH. Calls, streams, errors, a far side that
dies, and what it leaves behind."""

from __future__ import annotations

import ast
import io
import json
import os
import signal
import socket
import subprocess
import sys
import time
import zipfile
from contextlib import ExitStack
from pathlib import Path

import pytest

from migdoctor.schemas import LOOKUPS_ONLY_PARTS, facts_problem, fast_validator
from migdoctor.transports import Host, Lookups, Transport, TransportError, fetch_facts, open_transports
from migdoctor.transports.bundle import bundle, package_files, runs_on
from migdoctor.transports.ssh import FIRST_STAGE

DATA = Path(__file__).parents[2] / "data"


class BarePython(Transport):
    """The SSH transport's far side without ssh: the system python3, booted with the bundle,
    after PREFIX (the `offline` fixture's, when it looks names up)."""

    prefix: list[str] = []

    @property
    def bootstraps(self) -> bool:
        return True

    def far_side_argv(self) -> list[str]:
        return [*self.prefix, "/usr/bin/python3", "-c", FIRST_STAGE]


class Installed(Transport):
    """The far side of an installed migdoctor (remote_command, lab hosts), in a child process."""

    def far_side_argv(self) -> list[str]:
        return [sys.executable, "-m", "migdoctor.farside"]


@pytest.fixture(params=[Installed, BarePython], ids=["installed", "bare"])
def far(request: pytest.FixtureRequest):
    transport = request.param(Host("kvm1", "local"))
    yield transport
    transport.close()


def test_the_local_transport_calls_in_process_streams_beside_and_cleans_up(tmp_path: Path):
    payload = tmp_path / "canary.payload"
    with open_transports([Host("kvm1", "local")]) as (local,):
        local.call("payload-write", path=str(payload), mib=1)
        assert local.far_side is None  # nothing started for a plain call
        with local.stream("link-counters-follow", interval=0.05) as samples:
            assert "lo" in samples.next(5)
        assert payload.exists()
    assert not payload.exists()


def test_a_bare_python3_without_pyroute2_or_dnspython_runs_the_bundle(offline):
    transport = BarePython(Host("kvm1", "local"))
    transport.prefix = offline
    try:
        record = transport.call("facts", resolve=["localhost"], lookups_only=True)
        assert transport.started().ready["python"].startswith(f"{sys.version_info[0]}.")
        assert record["resolution"]["lookups"][0]["getaddrinfo"]["addresses"]
    finally:
        transport.close()


def test_facts_come_back_with_the_libvirt_gap_named(far, monkeypatch):
    monkeypatch.setattr(type(far), "default_libvirt_uri", lambda self: "qemu+unix:///system?socket=/nonexistent/sock")
    record = fetch_facts(far, Lookups())
    assert record["links"] and record["identity"]["hypervisor"]["libvirt"] is None
    (gap,) = [gap for gap in record["missing"] if gap["fact"] == "libvirt"]
    assert gap["reason"].startswith("cannot open qemu+unix:///system?socket=/nonexistent/sock: ")


def test_a_stream_yields_until_closed_and_the_far_side_keeps_serving(far):
    with far.stream("link-counters-follow", interval=0.05) as samples:
        first, second = samples.next(5), samples.next(5)
    assert "lo" in first and "lo" in second
    assert "lo" in far.call("link-counters")


def test_an_unknown_command_is_one_line_naming_host_and_command(far):
    with pytest.raises(
        TransportError, match=r"^kvm1: far-side 'no-such' failed: LookupError: no far-side command 'no-such'"
    ):
        far.call("no-such")


def test_a_far_side_that_dies_is_named_and_later_calls_fail_at_once(far):
    os.kill(far.started().ready["pid"], signal.SIGKILL)
    with pytest.raises(TransportError, match=r"^kvm1: the far side ended unexpectedly"):
        far.call("link-counters")
    started = time.monotonic()
    with pytest.raises(TransportError, match=r"^kvm1: the far side ended unexpectedly"):
        far.call("link-counters")
    assert time.monotonic() - started < 1


def test_files_a_request_wrote_are_removed_when_the_far_side_ends(far, tmp_path: Path):
    payload = tmp_path / "canary.payload"
    far.call("payload-write", path=str(payload), mib=1)
    assert payload.stat().st_size == 1024 * 1024
    far.close()
    assert not payload.exists()


@pytest.mark.parametrize("compiled", [True, False], ids=["bytecode", "source"])
def test_the_bundle_sets_pyroute2_up_without_its_init_and_the_far_side_reads_links(compiled: bool):
    """pyroute2's __init__ imports every socket class it has (NDB, conntrack ...) and
    pyroute2.ethtool's its generic netlink families: on a host both packages stay hollow, and the
    modules the far side imports load from where they are defined."""
    import importlib.util

    blob = bundle(importlib.util.MAGIC_NUMBER if compiled else None, sys.version_info[:2])
    boot = Path(__file__).parents[3] / "migdoctor" / "farside" / "boot.py"
    script = f"""import sys
boot = {{"__name__": "boot"}}
exec(open({str(boot)!r}).read(), boot)
sys.meta_path.insert(0, boot["BundleImporter"](sys.stdin.buffer.read()))
from migdoctor.facts.network import IPRoute
import pyroute2
with IPRoute() as ip:
    print(ip.link_lookup(ifname="lo"), hasattr(pyroute2, "IPRoute"), "pyroute2.ndb" in sys.modules, pyroute2.__file__)
print("pyroute2.netlink.generic" in sys.modules)
"""
    done = subprocess.run(["/usr/bin/python3", "-S", "-c", script], input=blob, capture_output=True, check=True)
    assert done.stdout.decode().split() == ["[1]", "False", "False", "<migdoctor-bundle>/pyroute2/__init__.py", "False"]


def test_the_first_stage_widens_its_stdin_pipe_to_take_the_bundle_at_once():
    """Over SSH the bundle (1.9 MB) crosses sshd into python3's stdin pipe: at the usual 64 KiB
    sshd waits on python3 for each 64 KiB, and the channel's window on sshd."""
    import fcntl

    with subprocess.Popen(
        ["/usr/bin/python3", "-c", FIRST_STAGE], stdin=subprocess.PIPE, stdout=subprocess.PIPE
    ) as first_stage:
        assert first_stage.stdin is not None and first_stage.stdout is not None
        assert first_stage.stdout.readline().startswith(b"migdoctor-far-side ")
        assert fcntl.fcntl(first_stage.stdin.fileno(), fcntl.F_GETPIPE_SZ) == 1 << 20
        first_stage.kill()


def test_everything_sent_to_a_python_3_9_host_parses_as_python_3_9():
    """Hosts may run Python 3.9: whatever the bundle carries there must not use newer syntax."""
    for name, path in package_files((3, 9)):
        ast.parse(path.read_text(), filename=name, feature_version=(3, 9))


def test_hosts_greeting_at_once_on_a_cold_cache_get_one_bundle(tmp_path: Path, monkeypatch):
    """Each host's greeting asks for the bundle from its own thread, beside make_ahead's: on a cold
    cache the first builds it and the others read that one zip, never a second build over it."""
    import importlib.util
    import threading

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    made: list[bytes] = []
    asking = [
        threading.Thread(
            target=lambda: made.append(bundle.__wrapped__(importlib.util.MAGIC_NUMBER, sys.version_info[:2]))
        )
        for _ in range(3)
    ]
    for thread in asking:
        thread.start()
    for thread in asking:
        thread.join()
    assert len(made) == 3 and len(set(made)) == 1
    assert zipfile.ZipFile(io.BytesIO(made[0])).testzip() is None
    assert sorted(path.name.split("-")[0] for path in (tmp_path / "migdoctor").iterdir()) == ["by", "far"]


def test_a_run_that_ends_while_the_bundle_is_made_ahead_waits_for_it(tmp_path: Path):
    """A run can end before its hosts greet (one refused at once) while make_ahead builds on a cold
    cache: the cache then holds the whole zip, never a half-written one."""
    code = "from migdoctor.transports.bundle import make_ahead; make_ahead()"
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path)}
    subprocess.run([sys.executable, "-c", code], env=env, check=True, timeout=60)
    (zipped,) = (tmp_path / "migdoctor").glob("far-side-*.zip")
    assert zipfile.ZipFile(zipped).testzip() is None
    assert not list((tmp_path / "migdoctor").glob("*.tmp"))


def test_a_package_the_hosts_python_cannot_run_stays_out_of_the_bundle():
    """dnspython 2.9 requires Python 3.11: a 3.9 host gets none, and says so in a gap."""
    names = {name.split("/")[0] for name, _ in package_files((3, 9))}
    assert not runs_on("dnspython", (3, 9)) and names == {"migdoctor", "pyroute2"}
    assert {name.split("/")[0] for name, _ in package_files((3, 11))} == {"migdoctor", "pyroute2", "dns"}
    with zipfile.ZipFile(io.BytesIO(bundle(None, (3, 9)))) as archive:
        assert all(name.endswith(".py") for name in archive.namelist())


def test_a_missing_client_program_is_one_line():
    class Missing(Transport):
        def far_side_argv(self) -> list[str]:
            return ["/nonexistent/ssh"]

    with pytest.raises(TransportError, match=r"^kvm1: /nonexistent/ssh is not installed here$"):
        Missing(Host("kvm1", "ssh")).call("facts")


def test_a_far_side_that_could_not_start_fails_every_later_call_with_its_line_without_a_second_attempt():
    """Round one and the peer connections ask the same host at once: an unreachable host is
    tried once (a second ssh would double its time-out)."""
    attempts = []

    class Unreachable(Transport):
        def far_side_argv(self) -> list[str]:
            attempts.append(1)
            return ["sh", "-c", "echo 'ssh: connect to host kvm1 port 22: No route to host' >&2; exit 255"]

    transport = Unreachable(Host("kvm1", "ssh"))
    for _ in range(3):
        with pytest.raises(TransportError, match=r"No route to host") as raised:
            transport.call("facts")
        assert str(raised.value).splitlines() == [str(raised.value)]
    assert attempts == [1]


def test_the_port_probe_listens_on_both_families_when_migration_address_is_unset(far):
    """An empty bind address is QEMU's default: "::" taking IPv4 too; the sender connects to a name
    with QEMU's getaddrinfo flags (here 127.0.0.1 through the dual-stack socket)."""
    with far.stream("probe-serve", bind="", first=49152, last=49215) as server:
        ready = server.next(5)
        assert ready["bind"] == "::"
        sent = far.call("probe-send", name="127.0.0.1", port=ready["port"])
        received = server.next(5)
    assert sent["address"] == "127.0.0.1" and received["bytes"] == sent["bytes"] > 0


def test_the_port_probe_measures_a_steady_bandwidth_only_when_asked(far):
    """A pair check sends its 4 MiB sample and no more; a prediction's probe (guests asked) sends
    for PROBE_SECONDS and the listener gives the steady rate."""
    from migdoctor.farside.probe import PROBE_BYTES, PROBE_SECONDS, WARMUP_S

    for measure in (False, True):
        with far.stream("probe-serve", bind="127.0.0.1", first=49152, last=49215) as server:
            port = server.next(5)["port"]
            sent = far.call("probe-send", name="127.0.0.1", port=port, measure=measure)
            received = server.next(5)
        if measure:
            assert sent["seconds"] >= PROBE_SECONDS and received["steady_mbps"] > 0
            assert received["steady_s"] >= PROBE_SECONDS - WARMUP_S - 0.1
        else:
            assert sent["bytes"] == PROBE_BYTES and sent["seconds"] < PROBE_SECONDS


def free_port() -> int:
    """The last of nine free ports below the kernel's ephemeral range: a port the kernel picked and
    released could be taken again by any process's outgoing connection before the test binds it."""
    lowest = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    for last in range(lowest - 1, lowest - 2000, -9):
        try:
            with ExitStack() as held:
                for port in range(last - 8, last + 1):
                    held.enter_context(socket.socket()).bind(("127.0.0.1", port))
            return last
        except OSError:
            continue
    raise AssertionError("no nine free ports below the ephemeral range")


def test_the_port_probe_holds_the_last_port_of_the_range_and_the_sender_connects_to_it_too(far):
    last = free_port()
    with far.stream("probe-serve", bind="127.0.0.1", first=last - 8, last=last) as server:
        ready = server.next(5)
        assert ready["last_port"] == last and ready["port"] < last
        sent = far.call("probe-send", name="127.0.0.1", port=ready["port"], last_port=last)
        received = server.next(5)
    assert sent["last_error"] is None and received["bytes"] == sent["bytes"] > 0


def test_a_refused_last_port_is_the_senders_last_error_and_the_sample_still_goes(far):
    """As a firewall that rejects the end of the range answers: the first port takes the sample."""
    with far.stream("probe-serve", bind="127.0.0.1", first=49152, last=49215) as server:
        port = server.next(5)["port"]
        sent = far.call("probe-send", name="127.0.0.1", port=port, last_port=free_port())
        received = server.next(5)
    assert sent["last_error"] == "ConnectionRefusedError: Connection refused"
    assert received["bytes"] == sent["bytes"] > 0


def test_a_last_port_in_use_is_not_tried_and_the_listener_says_why(far):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        last = taken.getsockname()[1]
        with far.stream("probe-serve", bind="127.0.0.1", first=last - 8, last=last) as server:
            ready = server.next(5)
    assert ready["last_port"] is None and ready["port"] < last
    assert ready["last_untried"] == f"port {last} is in use: Address already in use"


def test_the_path_mtu_probe_runs_on_a_far_side_and_its_tcp_listener_drains_until_closed(far):
    record = far.call("pmtu-probe", address="127.0.0.1", peer_mtu=1500)
    assert (record["source_link"], record["method"], record["largest"]) == ("lo", "icmp", 1500)
    with far.stream("pmtu-serve", bind="127.0.0.1", first=49152, last=49215) as server:
        port = server.next(5)["port"]
        with socket.create_connection(("127.0.0.1", port), timeout=5) as connection:
            connection.sendall(bytes(16 << 20))  # more than socket buffers hold: only a reader takes it
    assert "lo" in far.call("link-counters")  # the far side still serves after the listener was cancelled


def test_a_second_round_answer_is_held_to_the_look_up_parts_alone():
    """Round two answers route look-ups, resolution and gaps only; the compiled validator admits
    one and refuses one without them, naming the part (jsonschema words it)."""
    record = json.loads((DATA / "facts" / "healthy-report.json").read_text())["facts"]["source"]
    second_round = {part: record[part] for part in LOOKUPS_ONLY_PARTS}
    assert fast_validator("facts", LOOKUPS_ONLY_PARTS).is_valid(second_round)  # no jsonschema import
    assert facts_problem(second_round, lookups_only=True) is None
    assert facts_problem(second_round) is not None  # not a whole record
    del second_round["resolution"]
    assert (
        facts_problem(second_round, lookups_only=True)
        == "not a migdoctor facts record: (top): 'resolution' is a required property"
    )
