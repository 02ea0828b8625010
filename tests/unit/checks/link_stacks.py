"""Link stacks for the checks to judge, built from real /proc/net/bonding captures (tests/data/links)
onto the lab's captured facts: hostb's migration address moves from b-fast onto br-mig, a bridge
over the VLAN bond0.100 over bond0, whose members are those of the capture."""

from __future__ import annotations

from pathlib import Path
from typing import Any

LINKS_DIR = Path(__file__).resolve().parents[2] / "data" / "links"
# "Bonding Mode:" lines of the bonding driver, as iproute2 names the modes.
MODES = {
    "IEEE 802.3ad Dynamic link aggregation": "802.3ad",
    "fault-tolerance (active-backup)": "active-backup",
    "load balancing (round-robin)": "balance-rr",
    "load balancing (xor)": "balance-xor",
}


def link(name: str, kind: str, mtu: int, **fields: Any) -> dict[str, Any]:
    """A link record as migdoctor.facts.network collects it."""
    record = {
        "name": name,
        "index": 100 + sum(map(ord, name)),
        "kind": kind,
        "state": "UP",
        "admin_up": True,
        "speed_mbps": None,
        "mtu": mtu,
        "mac": None,
        "master": None,
        "members": [],
        "addresses": [],
        "qdisc": None,
        "rx_bytes": 0,
        "tx_bytes": 0,
        "parent": None,
        "bond": None,
        "bond_member": None,
        "vlan": None,
    }
    return record | fields


def bond_links(capture: str, bond: str = "bond0", mtu: int = 9000) -> list[dict[str, Any]]:
    """The bond and its members as netlink shows what the capture's /proc/net/bonding file says."""
    blocks = (LINKS_DIR / f"{capture}.proc-net-bonding").read_text().split("\nSlave Interface: ")
    header = dict(line.strip().split(": ", 1) for line in blocks[0].splitlines() if ": " in line)
    active_aggregator = blocks[0].partition("Active Aggregator Info:")[2].partition("Aggregator ID: ")[2]
    mode = MODES[header["Bonding Mode"]]
    members = []
    for block in blocks[1:]:
        name, *lines = block.splitlines()
        fields = dict(line.split(": ", 1) for line in lines if ": " in line and not line.startswith(" "))
        speed = fields.get("Speed", "Unknown").split()[0]
        mii = fields["MII Status"]
        active = mode != "active-backup" or name == header.get("Currently Active Slave")
        members.append(
            link(
                name,
                "physical",
                mtu,
                state="UP" if mii == "up" else "DOWN",
                speed_mbps=int(speed) if speed.isdigit() else None,
                master=bond,
                bond_member={
                    "state": "active" if active else "backup",
                    "mii_status": mii,
                    "aggregator_id": int(fields["Aggregator ID"]) if "Aggregator ID" in fields else None,
                    "link_failure_count": int(fields["Link Failure Count"]),
                },
            )
        )
    info = {
        "mode": mode,
        "active_member": header.get("Currently Active Slave"),
        "active_aggregator": int(active_aggregator.split()[0]) if active_aggregator else None,
    }
    return [link(bond, "bond", mtu, members=[m["name"] for m in members], bond=info), *members]


def stacked(capture: str, on: str = "b-fast", mtus: dict[str, int] | None = None):
    """A mutation: ON's addresses move to br-mig over bond0.100 over the captured bond0."""
    mtus = {"br-mig": 9000, "bond0.100": 9000, "bond0": 9000, **(mtus or {})}

    def mutate(facts: dict[str, Any]) -> None:
        old = next(item for item in facts["links"] if item["name"] == on)
        bond, *members = bond_links(capture, mtu=mtus["bond0"])
        vlan = link(
            "bond0.100",
            "vlan",
            mtus["bond0.100"],
            parent="bond0",
            master="br-mig",
            vlan={"id": 100, "protocol": "802.1Q"},
        )
        bridge = link("br-mig", "bridge", mtus["br-mig"], members=["bond0.100"], addresses=old["addresses"])
        facts["links"] = [item for item in facts["links"] if item is not old] + [bridge, vlan, bond, *members]
        for route in facts.get("route_lookups") or []:
            if route.get("interface") == on:
                route["interface"] = "br-mig"

    return mutate
