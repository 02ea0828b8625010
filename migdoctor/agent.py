"""The machine-facing commands one migdoctor runs on a host for another (over SSH or inside a lab
host): `facts --json`, the two halves of the port probe, the peer connection. Parsed with argparse and kept free
of typer and rich, so each run on a far host starts fast; people use the typer CLI."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

MACHINE_COMMANDS = (
    "probe-serve",
    "probe-send",
    "link-counters",
    "payload-write",
    "payload-remove",
    "canary-kill",
    "peer-connect",
    "pmtu-probe",
    "pmtu-serve",
)
LOOKUP_OPTIONS = ("--route-to", "--resolve", "--reverse")


def handles(argv: list[str]) -> bool:
    """`facts --json` about this host with look-up options only, or another machine command."""
    if argv[:1] and argv[0] in MACHINE_COMMANDS:
        return True
    if argv[:1] != ["facts"] or "--json" not in argv:
        return False
    rest = [arg for arg in argv[1:] if arg not in ("--json", "--lookups-only")]
    return all(option in LOOKUP_OPTIONS for option in rest[0::2]) and len(rest) % 2 == 0


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="migdoctor")
    commands = root.add_subparsers(dest="command", required=True)
    facts = commands.add_parser("facts")
    facts.add_argument("--json", action="store_true", required=True)
    facts.add_argument("--lookups-only", action="store_true")
    for option in LOOKUP_OPTIONS:
        facts.add_argument(option, action="append", default=[])
    commands.add_parser("probe-serve")
    send = commands.add_parser("probe-send")
    send.add_argument("--name", required=True)
    send.add_argument("--port", type=int, required=True)
    commands.add_parser("link-counters").add_argument("--follow", type=float, metavar="INTERVAL")
    write = commands.add_parser("payload-write")
    write.add_argument("--path", required=True)
    write.add_argument("--mib", type=int, required=True)
    commands.add_parser("payload-remove").add_argument("--path", required=True)
    commands.add_parser("canary-kill").add_argument("--name", required=True)
    commands.add_parser("peer-connect").add_argument("--uri", required=True)
    pmtu = commands.add_parser("pmtu-probe")
    pmtu.add_argument("--address", required=True)
    pmtu.add_argument("--peer-mtu", type=int)
    pmtu.add_argument("--port", type=int)
    commands.add_parser("pmtu-serve")
    return root


def run(argv: list[str]) -> int:
    args = parser().parse_args(argv)
    if args.command == "probe-serve":
        from migdoctor.actions.probe import serve

        serve()
    elif args.command == "probe-send":
        from migdoctor.actions.probe import send

        send(args.name, args.port)
    elif args.command == "pmtu-serve":
        from migdoctor.actions.pmtu import serve as serve_pmtu

        serve_pmtu()
    elif args.command == "link-counters" and args.follow:
        follow_counters(args.follow)
    else:
        json.dump(answer(args), sys.stdout, sort_keys=True)
        sys.stdout.write("\n")
    return 0


def follow_counters(interval: float) -> None:
    """A sample per INTERVAL until stdin closes: the watcher on the other end has finished."""
    import selectors

    from migdoctor.facts.counters import link_counters

    selector = selectors.DefaultSelector()
    selector.register(sys.stdin, selectors.EVENT_READ)
    while True:
        sys.stdout.write(json.dumps(link_counters()) + "\n")
        sys.stdout.flush()
        if selector.select(interval) and not sys.stdin.read(1):
            return


def answer(args: argparse.Namespace) -> Any:
    """The commands that answer with one JSON document."""
    if args.command == "facts":
        from migdoctor.facts import collect

        return collect(args.route_to, args.resolve, args.reverse, args.lookups_only)
    if args.command == "link-counters":
        from migdoctor.facts.counters import link_counters

        return link_counters()
    if args.command == "peer-connect":
        from migdoctor.actions.peer import connect

        return connect(args.uri)
    if args.command == "pmtu-probe":
        from migdoctor.actions.pmtu import probe

        return probe(args.address, args.peer_mtu, args.port)
    from migdoctor.actions import canary

    if args.command == "payload-write":
        return {"path": str(canary.write_payload(Path(args.path), args.mib))}
    if args.command == "payload-remove":
        Path(args.path).unlink(missing_ok=True)
        return {"removed": args.path}
    return {"killed": canary.kill_processes(args.name)}


def main() -> None:
    """The `migdoctor` console script: agent commands here, everything else to the typer CLI."""
    argv = sys.argv[1:]
    if handles(argv):
        sys.exit(run(argv))
    from migdoctor.cli import app

    try:
        app()
    except Exception as exc:  # noqa: BLE001 - admins get one line; MIGDOCTOR_DEBUG=1 shows the traceback
        if os.environ.get("MIGDOCTOR_DEBUG"):
            raise
        sys.stderr.write(f"migdoctor: internal error: {type(exc).__name__}: {exc} (MIGDOCTOR_DEBUG=1 shows where)\n")
        sys.exit(2)
