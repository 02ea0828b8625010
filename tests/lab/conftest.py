"""The lab, brought up once per session (scenario seed, two hosts) and torn down at the end.

A lab that cannot come up FAILS the tests that need it: CI counts skips as missing tests.
Tests that need another scenario ask `lab_scenario("healthy")`, or `lab_scenario("healthy",
hosts=3)` for more hosts (default: the scenario's own count); the switch (down + up, about a
second with libvirt's capabilities cache) happens only when the scenario or the count changes.
"""

import os
import signal
import subprocess
import sys
import time
import tomllib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest


class LabSession:
    """The session's lab and the raw ways of looking inside it."""

    def __init__(self) -> None:
        self.scenario: str | None = None
        self.hosts: int | None = None  # as asked: None is the scenario's own count

    def wait_for_canary_migration(self, timeout: float = 60) -> None:
        """Until a canary is migrating from hosta (libvirt reports data processed): mid-run."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for name in self.run("hosta", "virsh", "-c", "qemu:///system", "list", "--name").stdout.split():
                job = self.run("hosta", "virsh", "-c", "qemu:///system", "domjobinfo", name, check=False).stdout
                if name.startswith("migdoctor-canary") and "Data processed" in job:
                    return
            time.sleep(0.1)
        pytest.fail("no canary migration started on hosta")

    def kill_far_sides(self, host: str) -> None:
        """SIGKILL the far-side python3 processes running in HOST (not the ssh clients carrying them)."""
        from migdoctor.lab import procs

        listing = subprocess.run(["pgrep", "-f", "migdoctor-far-side"], capture_output=True, text=True)
        pids = [int(pid) for pid in listing.stdout.split()]
        killed = [pid for pid in pids if procs.comm(pid).startswith("python") and procs.in_netns(pid, f"mdlab-{host}")]
        assert killed, f"no far side runs in {host}"
        for pid in killed:
            os.kill(pid, signal.SIGKILL)

    def use(self, scenario: str, hosts: int | None = None) -> None:
        """Make `scenario` (with `hosts` hosts) the running one, re-creating the lab only when it differs."""
        from migdoctor import lab

        if (self.scenario, self.hosts) == (scenario, hosts) and lab.is_up():
            return
        lab.down()
        self.scenario = None
        try:
            lab.up(scenario, hosts=hosts)
        except lab.LabError as e:
            pytest.fail(
                f"lab did not come up with scenario {scenario} ({hosts or 'default'} hosts): {e}", pytrace=False
            )
        self.scenario, self.hosts = scenario, hosts

    def down(self) -> None:
        from migdoctor import lab

        lab.down()
        self.scenario = None
        self.hosts = None

    def run(self, host: str, *argv: str, check: bool = True, timeout: float = 30) -> subprocess.CompletedProcess[str]:
        """Run a command inside a lab host (like `migdoctor lab exec HOST -- ...`)."""
        from migdoctor import lab

        return subprocess.run(
            [*lab.exec_prefix(host), *argv], capture_output=True, text=True, check=check, timeout=timeout
        )

    def cli(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        """Run `migdoctor lab ARGS` as a user would."""
        return subprocess.run(
            [sys.executable, "-m", "migdoctor", "lab", *args], capture_output=True, text=True, timeout=timeout
        )

    def libvirt(self, host: str) -> Any:
        """A libvirt connection to a host's daemon from the root namespace."""
        from migdoctor import lab
        from migdoctor.lab import daemons

        return daemons.open_libvirt(lab.local_libvirt_uri(host))

    def inventory(self) -> dict[str, Any]:
        from migdoctor.lab import inventory

        return tomllib.loads(inventory.FILE.read_text())

    def inventory_copy(self, tmp_path: Path, host: str = "hostb", **changes: Any) -> Path:
        """The lab's inventory with some of HOST's keys changed, written to TMP_PATH."""
        import tomli_w

        inventory = self.inventory()
        inventory["hosts"][host].update(changes)
        path = tmp_path / "inventory.toml"
        path.write_text(tomli_w.dumps(inventory))
        return path

    def tx_bytes(self, host: str, ifname: str) -> int:
        out = self.run(host, "cat", f"/sys/class/net/{ifname}/statistics/tx_bytes").stdout
        return int(out)


@pytest.fixture(scope="session")
def lab() -> Iterator[LabSession]:
    if not sys.platform.startswith("linux") or os.geteuid() != 0:
        pytest.fail("the lab tests need Linux and root", pytrace=False)
    from migdoctor import lab as lab_api
    from migdoctor.lab import inventory
    from migdoctor.transports.inventory import ENV_VAR

    session = LabSession()
    session.use("seed")
    with pytest.MonkeyPatch.context() as patch:  # what `lab up` tells its user to export
        patch.setenv(ENV_VAR, str(inventory.FILE))
        yield session
    lab_api.down()


@pytest.fixture
def lab_scenario(lab: LabSession) -> Callable[..., LabSession]:
    """`lab_scenario("healthy")` (or `lab_scenario("healthy", hosts=4)`) makes that scenario the
    running one and returns the lab."""

    def use(scenario: str, hosts: int | None = None) -> LabSession:
        lab.use(scenario, hosts)
        return lab

    return use
