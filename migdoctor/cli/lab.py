"""`migdoctor lab`: bring the sandbox of two to four hypervisors up and down, look inside it.

The lab package is imported inside each command so `migdoctor --help` stays fast.
"""

import contextlib
import json
import os
import time
from collections.abc import Iterator
from typing import Annotated, Any

import typer

lab_app = typer.Typer(
    help="A sandbox of two to four real KVM hypervisors on this machine (Linux, root).",
    no_args_is_help=True,
)


@contextlib.contextmanager
def _one_line_errors() -> Iterator[None]:
    """Lab failures end the command with one line and exit 1, never a traceback."""
    from migdoctor.lab import LabError

    try:
        yield
    except LabError as e:
        typer.echo(f"migdoctor lab: {e}", err=True)
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        typer.echo("migdoctor lab: interrupted", err=True)
        raise typer.Exit(130) from None


@lab_app.command()
def up(
    scenario: Annotated[
        str, typer.Option("--scenario", "-s", help="Scenario to apply (see `lab scenarios`).")
    ] = "seed",
    lan_rate: Annotated[str, typer.Option(help="tbf rate of the LAN link.")] = "100mbit",
    fast_rate: Annotated[str, typer.Option(help="tbf rate of the fast migration link.")] = "1gbit",
    hosts: Annotated[
        int | None,
        typer.Option("--hosts", min=2, max=4, help="How many hosts (hosta..hostd); default: the scenario's, else 2."),
    ] = None,
) -> None:
    """Bring the lab up (harmless when it is already up the same way)."""
    from migdoctor import lab

    with _one_line_errors():
        was_up = lab.is_up()
        started = time.monotonic()
        lab.up(scenario, lan_rate, fast_rate, hosts)
        if was_up:
            typer.echo(f"lab already up with scenario {scenario}: nothing to do")
            typer.echo(f"export MIGDOCTOR_INVENTORY={lab.status()['inventory']}")
            return
        took = time.monotonic() - started
        st = lab.status()
    typer.echo(
        f"lab up in {took:.1f} s: scenario {scenario}, {len(st['hosts'])} hosts (lan {lan_rate}, fast {fast_rate})"
    )
    for name, h in st["hosts"].items():
        addrs = "  ".join(f"{role} {a['address']}" for role, a in h["addresses"].items())
        typer.echo(f"  {name}  {h['fqdn']}  {addrs}")
    typer.echo(f"  ssh -F {st['ssh_config']} hosta")
    typer.echo(f"  inventory {st['inventory']}; for migdoctor to reach the lab's hosts by name:")
    typer.echo(f"export MIGDOCTOR_INVENTORY={st['inventory']}")


@lab_app.command()
def down() -> None:
    """Tear the lab down completely (harmless when there is none)."""
    from migdoctor import lab

    with _one_line_errors():
        if not lab.exists():
            typer.echo("no lab to tear down: nothing to do")
            return
        started = time.monotonic()
        lab.down()
    typer.echo(f"lab down in {time.monotonic() - started:.1f} s")


@lab_app.command()
def status(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show the lab's state; exits 1 when it is not up."""
    from migdoctor import lab

    with _one_line_errors():
        st = lab.status()
    if as_json:
        typer.echo(json.dumps(st, indent=2))
    else:
        _print_status(st)
    if not st["up"]:
        raise typer.Exit(1)


@lab_app.command("exec", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def exec_(
    host: Annotated[str, typer.Argument(help="A lab host: hosta, hostb, ...")],
    command: Annotated[list[str], typer.Argument(help="Command to run, after `--`.")],
) -> None:
    """Run a command inside a lab host (its network, mounts, hostname); keeps its exit code."""
    from migdoctor import lab

    with _one_line_errors():
        prefix = lab.exec_prefix(host)
    try:
        os.execvp(prefix[0], prefix + command)
    except OSError as e:
        typer.echo(f"migdoctor lab: cannot run {prefix[0]}: {e.strerror}", err=True)
        raise typer.Exit(127) from None


@lab_app.command()
def reload(host: Annotated[str, typer.Argument(help="A lab host: hosta, hostb, ...")]) -> None:
    """Restart a host's libvirtd after editing its configuration; guests keep running."""
    from migdoctor import lab

    with _one_line_errors():
        lab.reload(host)
        pid = lab.status()["hosts"][host]["pids"]["libvirtd"]
    typer.echo(f"{host}: libvirtd restarted (pid {pid})")


@lab_app.command()
def scenarios() -> None:
    """List the scenarios `lab up --scenario` accepts."""
    from migdoctor.lab import scenario

    with _one_line_errors():
        found = scenario.available()
    width = max(map(len, found), default=0)
    for name, description in found.items():
        typer.echo(f"{name:<{width}}  {description}")


def _print_status(st: dict[str, Any]) -> None:
    if st["phase"] is None:
        typer.echo("lab: down")
        return
    state = "up" if st["up"] else f"NOT healthy (phase {st['phase']})"
    rates = st["rates"]
    typer.echo(
        f"lab: {state}, scenario {st['scenario']} (lan {rates['lan']}, "
        f"fast {rates['fast']}), state in {st['state_dir']}"
    )
    dns = st["dns"]
    typer.echo(f"  dns    {dns['address']}  {_running(dns['running'], dns['pid'])}")
    for name, h in st["hosts"].items():
        libvirtd = _running(h["libvirtd_running"], h["pids"]["libvirtd"])
        sshd = _running(h["sshd_running"], h["pids"]["sshd"])
        typer.echo(f"  {name}  {h['fqdn']}  libvirtd {libvirtd}, sshd {sshd}")
        for role, a in h["addresses"].items():
            typer.echo(f"         {role:<5} {a['interface']:<7} {a['address']:<16} {a['name']}")


def _running(running: bool, pid: int | None) -> str:
    return f"running (pid {pid})" if running else "NOT running"
