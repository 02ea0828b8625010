"""The path MTU probe, as vMotion admins run `vmkping -d -s 8972`: don't-fragment packets from the
source to the destination's migration address at the migration links' MTU, and when they do not
arrive, the largest size that does. ICMP echo first; where ICMP is filtered, TCP segments of a
clamped size to a listener migdoctor opens on the destination. Both halves run on the far hosts
with the standard library and pyroute2 only; the orchestration is migdoctor/actions/pmtu.py.

Why by hand and not `ping -M do`: iputils is not on every hypervisor, and only a socket of our
own sees the "fragmentation needed" / "packet too big" answer naming the hop that dropped it."""

from __future__ import annotations

import os
import select
import selectors
import socket
import struct
import threading
import time
from collections.abc import Iterator
from typing import Any

from migdoctor.farside.probe import POLL_S, listen_as_qemu

IP_MTU_DISCOVER, IP_PMTUDISC_PROBE = 10, 3  # linux/in.h: set DF, ignore the cached path MTU
IPV6_MTU_DISCOVER, IPV6_PMTUDISC_PROBE = 23, 3
OVERHEAD = {4: 28, 6: 48}  # IP + ICMP echo headers: `ping -s 8972` makes a 9000-byte packet
TCP_OVERHEAD = {4: 40, 6: 60}
FLOOR = {4: 576, 6: 1280}  # every IPv4 host takes 576 bytes, every IPv6 link 1280
ECHO_REQUEST, ECHO_REPLY = {4: 8, 6: 128}, {4: 0, 6: 129}
TOO_BIG = {4: (3, 4), 6: (2, 0)}  # fragmentation needed (RFC 1191) / packet too big (RFC 4443)
WAIT_S = 0.3
RUN_TIMEOUT_S = 30.0


def checksum(data: bytes) -> int:
    """RFC 1071 checksum of an ICMPv4 message (the kernel sums ICMPv6 for raw sockets)."""
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    total = (total >> 16) + (total & 0xFFFF)
    return ~(total + (total >> 16)) & 0xFFFF


def echo_request(version: int, ident: int, seq: int, size: int) -> bytes:
    payload = bytes(size - OVERHEAD[version])
    header = struct.pack("!BBHHH", ECHO_REQUEST[version], 0, 0, ident, seq)
    if version == 4:
        header = struct.pack("!BBHHH", ECHO_REQUEST[version], 0, checksum(header + payload), ident, seq)
    return header + payload


def icmp_socket(version: int) -> tuple[socket.socket, bool]:
    """A raw ICMP socket (root or CAP_NET_RAW), else an unprivileged ping socket where
    net.ipv4.ping_group_range admits us; (socket, raw?). PermissionError when neither."""
    family, proto = (socket.AF_INET, socket.IPPROTO_ICMP) if version == 4 else (socket.AF_INET6, socket.IPPROTO_ICMPV6)
    level, option = (socket.IPPROTO_IP, IP_MTU_DISCOVER) if version == 4 else (socket.IPPROTO_IPV6, IPV6_MTU_DISCOVER)
    for kind, raw in ((socket.SOCK_RAW, True), (socket.SOCK_DGRAM, False)):
        try:
            sock = socket.socket(family, kind, proto)
        except PermissionError:
            continue
        sock.setsockopt(level, option, IP_PMTUDISC_PROBE)
        return sock, raw
    raise PermissionError(
        "no raw ICMP socket (needs root or CAP_NET_RAW) and no ping socket (net.ipv4.ping_group_range)"
    )


def icmp_answer(version: int, raw: bool, packet: bytes, seq: int) -> tuple[str, int | None] | None:
    """("reply", None) for our echo reply, ("too-big", next-hop MTU) for a hop refusing our size."""
    if version == 4 and raw:
        packet = packet[(packet[0] & 0x0F) * 4 :]  # a raw IPv4 socket hands over the IP header too
    if len(packet) < 8:
        return None
    kind, code = packet[0], packet[1]
    if kind == ECHO_REPLY[version] and struct.unpack("!H", packet[6:8])[0] == seq:
        return "reply", None
    if (kind, code) == TOO_BIG[version]:
        mtu = struct.unpack("!H", packet[6:8])[0] if version == 4 else struct.unpack("!I", packet[4:8])[0]
        return "too-big", mtu
    return None


class IcmpProber:
    """Echo requests with don't-fragment, many sizes at once (one sequence number each): what came
    back, and who said a size was too big."""

    batch = 32  # sizes per round: three rounds of one wait find the largest size to the byte

    def __init__(self, address: str, version: int) -> None:
        self.address, self.version = address, version
        self.sock, self.raw = icmp_socket(version)
        self.ident, self.seq = os.getpid() & 0xFFFF, 0
        self.too_big: tuple[str, int] | None = None  # (hop address, its MTU)

    def through(self, sizes: list[int]) -> set[int]:
        sent: dict[int, int] = {}
        for size in sizes:
            self.seq = (self.seq + 1) & 0xFFFF
            try:
                self.sock.sendto(echo_request(self.version, self.ident, self.seq, size), (self.address, 0))
            except OSError:  # EMSGSIZE: larger than our own link takes
                continue
            sent[self.seq] = size
        replied: set[int] = set()
        deadline = time.monotonic() + WAIT_S
        while len(replied) < len(sent) and (left := deadline - time.monotonic()) > 0:
            if not select.select([self.sock], [], [], left)[0]:
                break
            packet, sender = self.sock.recvfrom(65535)
            for seq in sent:
                answer = icmp_answer(self.version, self.raw, packet, seq)
                if answer == ("reply", None) and sender[0] == self.address:
                    replied.add(sent[seq])
                elif answer and answer[0] == "too-big" and answer[1]:
                    self.too_big = (sender[0], answer[1])
        return replied

    def close(self) -> None:
        self.sock.close()


class TcpProber:
    """One TCP segment of a size (TCP_MAXSEG, then exactly one MSS of data, so that no offload
    merges segments) with don't-fragment, to a listener: it got through when it is acknowledged."""

    batch = 1  # a connection per size: a binary search

    def __init__(self, address: str, version: int, port: int) -> None:
        self.address, self.version, self.port = address, version, port
        self.too_big: tuple[str, int] | None = None

    def through(self, sizes: list[int]) -> set[int]:
        return {size for size in sizes if self.passes(size)}

    def passes(self, size: int) -> bool:
        family = socket.AF_INET if self.version == 4 else socket.AF_INET6
        level, option = (
            (socket.IPPROTO_IP, IP_MTU_DISCOVER) if self.version == 4 else (socket.IPPROTO_IPV6, IPV6_MTU_DISCOVER)
        )
        with socket.socket(family, socket.SOCK_STREAM) as sock:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG, size - TCP_OVERHEAD[self.version])
            sock.setsockopt(level, option, IP_PMTUDISC_PROBE)
            sock.settimeout(2.0)
            sock.connect((self.address, self.port))
            sock.sendall(bytes(tcp_info(sock, 16)))  # tcpi_snd_mss: one full segment, options counted
            deadline = time.monotonic() + 2 * WAIT_S
            while time.monotonic() < deadline:
                if tcp_info(sock, 24) == 0:  # tcpi_unacked
                    return True
                time.sleep(0.01)
        return False

    def close(self) -> None:
        pass


def tcp_info(sock: socket.socket, offset: int) -> int:
    """A 32-bit field of struct tcp_info (linux/tcp.h): 16 tcpi_snd_mss, 24 tcpi_unacked."""
    return int(struct.unpack_from("I", sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 104), offset)[0])


def egress(address: str) -> tuple[str | None, int | None]:
    """The link the kernel routes ADDRESS by, and its MTU."""
    from pyroute2.iproute.linux import IPRoute

    with IPRoute() as ipr:
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        route = ipr.route("get", dst=address, family=family)[0]
        index = route.get("RTA_OIF")
        link = ipr.get_links(index)[0] if index else None
    return (link.get("IFLA_IFNAME"), link.get("IFLA_MTU")) if link else (None, None)


def spread(low: int, high: int, count: int) -> list[int]:
    """COUNT sizes evenly over LOW..HIGH, both ends included when there is room; one: the middle."""
    if count == 1 or high - low < 2:
        return [(low + high) // 2] if high >= low else []
    step = (high - low) / (count - 1)
    return sorted({round(low + step * index) for index in range(count)})


def largest_through(prober: IcmpProber | TcpProber, floor: int, ceiling: int) -> int | None:
    """The largest size in FLOOR..CEILING that gets through (None: not even FLOOR): the ceiling
    alone first (the healthy case costs one packet), then rounds of sizes between the largest
    that passed and the smallest that did not."""
    if prober.through([ceiling]):
        return ceiling
    if not prober.through([floor]):
        return None
    low, high = floor, ceiling  # low passes, high does not
    while high - low > 1:
        sizes = spread(low + 1, high - 1, prober.batch)
        passed = prober.through(sizes)
        low = max(passed | {low})
        high = min([size for size in sizes if size > low and size not in passed] + [high])
    return low


def probe(address: str, peer_mtu: int | None, port: int | None) -> dict[str, Any]:
    """Source side: the record link.path-mtu judges."""
    version = 6 if ":" in address else 4
    link, link_mtu = egress(address)
    expected = min(mtu for mtu in (link_mtu, peer_mtu) if mtu) if link_mtu or peer_mtu else None
    record: dict[str, Any] = {
        "address": address,
        "source_link": link,
        "source_mtu": link_mtu,
        "peer_mtu": peer_mtu,
        "expected": expected,
        "method": None,
        "largest": None,
        "too_big_from": None,
        "too_big_mtu": None,
        "skipped": None,
    }
    if expected is None:
        return record | {"skipped": f"no MTU known for the route to {address}"}
    notes = []
    try:
        icmp: IcmpProber | None = IcmpProber(address, version)
    except PermissionError as exc:
        icmp, notes = None, [f"ICMP not allowed: {exc}"]
    for method, prober in (("icmp", icmp), ("tcp", TcpProber(address, version, port) if port else None)):
        if prober is None:
            continue
        try:
            largest = largest_through(prober, min(FLOOR[version], expected), expected)
        except OSError as exc:
            notes.append(f"{method}: {exc.strerror or exc}")
            continue
        finally:
            prober.close()
        if largest is not None:
            hop = prober.too_big
            return record | {
                "method": method,
                "largest": largest,
                "too_big_from": hop[0] if hop else None,
                "too_big_mtu": hop[1] if hop else None,
            }
        notes.append(f"{method}: not even {min(FLOOR[version], expected)} bytes got an answer")
    return record | {"skipped": "; ".join(notes) or "no way to probe: ICMP not allowed and no TCP listener"}


def serve(cancelled: threading.Event, bind: str, first: int, last: int) -> Iterator[dict[str, Any]]:
    """Destination side of the TCP fallback: listen where QEMU would, drain every connection,
    until the control node cancels (the source is done) or RUN_TIMEOUT_S."""
    listener, ready = listen_as_qemu(bind, first, last)
    yield ready
    if listener is None:
        return
    selector = selectors.DefaultSelector()
    selector.register(listener, selectors.EVENT_READ)
    deadline = time.monotonic() + RUN_TIMEOUT_S
    with listener:
        while not cancelled.is_set() and time.monotonic() < deadline:
            for key, _ in selector.select(POLL_S):
                if key.fileobj is listener:
                    connection, _ = listener.accept()
                    selector.register(connection, selectors.EVENT_READ)
                elif not key.fileobj.recv(1 << 16):  # type: ignore[union-attr]
                    selector.unregister(key.fileobj)
                    key.fileobj.close()  # type: ignore[union-attr]
        for key in list(selector.get_map().values()):
            if key.fileobj is not listener:
                key.fileobj.close()  # type: ignore[union-attr]
