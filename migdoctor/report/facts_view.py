"""A facts record for people: the parts an admin looks at first, then what is missing."""

from __future__ import annotations

from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text


def rate_text(link: dict[str, Any]) -> str:
    speed = f"{link['speed_mbps']} Mb/s" if link.get("speed_mbps") else "speed unknown"
    qdisc = link.get("qdisc") or {}
    if qdisc.get("rate_bps"):
        speed += f", shaped {qdisc['kind']} {qdisc['rate_bps'] // 1_000_000} Mb/s"
    return speed


def links_table(links: list[dict[str, Any]]) -> Table:
    table = Table("link", "kind", "state", "mtu", "rate", "addresses", title="links", title_justify="left")
    for link in links:
        addresses = ", ".join(f"{a['address']}/{a['prefixlen']}" for a in link["addresses"] if a["scope"] == 0)
        table.add_row(link["name"], link["kind"], link["state"] or "", str(link["mtu"]), rate_text(link), addresses)
    return table


def lookups_table(record: dict[str, Any]) -> Table:
    table = Table("asked", "answer", title="look-ups", title_justify="left")
    for route in record.get("route_lookups") or []:
        answer = route["error"] or f"dev {route['interface']} src {route['source']}" + (
            f" via {route['gateway']}" if route.get("gateway") else ""
        )
        table.add_row(f"route to {route['destination']}", answer)
    for lookup in record["resolution"]["lookups"]:
        gai = lookup["getaddrinfo"]
        table.add_row(f"resolve {lookup['name']}", gai["error"] or ", ".join(gai["addresses"]))
    return table


def certificates_table(tls: dict[str, Any]) -> Table:
    """The certificate files present, with what a TLS peer checks first: names and expiry."""
    from migdoctor.judging.tls import GROUPS, certificates, file_problem

    table = Table("file", "CN", "names", "valid until", title="TLS certificates", title_justify="left")
    facts = {"tls": tls}
    for group, files in tls.items():
        for role, file in files.items():
            if not isinstance(file, dict) or role.endswith("_key") or not file["exists"]:
                continue
            problem = file_problem(facts, group, role)
            if problem:
                table.add_row(f"{GROUPS[group]} {role}: {file['path']}", problem, "", "")
                continue
            cert = certificates(facts, group, role)[0]
            names = ", ".join([*cert.dns_names, *cert.ip_addresses])
            table.add_row(file["path"], cert.common_name or cert.subject, names, f"{cert.not_after:%Y-%m-%d}")
    return table


def render_facts(record: dict[str, Any]) -> Group:
    identity = record["identity"]
    libvirt = identity["hypervisor"]["libvirt"] or {}
    header = Text.assemble(
        (identity["fqdn"], "bold"),
        f"  {(identity.get('os') or {}).get('PRETTY_NAME', 'OS unknown')}, kernel {identity['kernel']}, ",
        f"libvirt {libvirt.get('version', '?')}, QEMU {libvirt.get('hypervisor_version', '?')}, ",
        f"hypervisor {'/'.join(identity['hypervisor']['kinds']) or 'none found'}",
    )
    parts: list[Any] = [header, links_table(record.get("links") or [])]
    if record.get("route_lookups") or record["resolution"]["lookups"]:
        parts.append(lookups_table(record))
    listeners = ", ".join(f"{item['address']}:{item['port']}" for item in record.get("listeners") or [])
    parts.append(Text(f"listening: {listeners or 'nothing'}"))
    tls = record.get("tls") or {}
    if any(file.get("exists") for files in tls.values() for file in files.values() if isinstance(file, dict)):
        parts.append(certificates_table(tls))
    for gap in record["missing"]:
        where = f" ({gap['file']}{':' + str(gap['line']) if gap.get('line') else ''})" if gap.get("file") else ""
        parts.append(Text(f"not collected: {gap['fact']}: {gap['reason']}{where}", style="yellow"))
    return Group(*parts)
