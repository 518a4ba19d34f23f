# SPDX-License-Identifier: MPL-2.0
"""interfaces: which IPv4 interfaces this host has, and which of them beacons go out on
(the same rule as the C++ node's, so both choose alike on one host). Linux only."""

from __future__ import annotations

import errno
import fcntl
import socket
import struct
from typing import NamedTuple

# <linux/sockios.h> and <net/if.h>: the stdlib has no getifaddrs.
_SIOCGIFFLAGS, _SIOCGIFADDR = 0x8913, 0x8915
_IFF_UP, _IFF_LOOPBACK, _IFF_RUNNING, _IFF_MULTICAST = 0x1, 0x8, 0x40, 0x1000

_VIRTUAL = ("docker", "br-", "veth", "virbr", "vboxnet", "vmnet", "tun", "tap", "cni", "flannel",
            "cali", "weave", "kube", "lxcbr", "lxdbr", "podman")


class Interface(NamedTuple):
    name: str
    ip: str
    loopback: bool
    up: bool
    multicast: bool
    virtual: bool
    default_route: bool


def _default_route_interface() -> str:
    # /proc/net/route: "Iface Destination ..." with destination 00000000 for the default.
    try:
        with open("/proc/net/route") as f:
            next(f, None)
            for line in f:
                fields = line.split()
                if len(fields) >= 2 and fields[1] == "00000000":
                    return fields[0]
    except OSError:
        pass
    return ""


def list_interfaces() -> list[Interface]:
    """Every interface with an IPv4 address (its first), with the flags the choice needs."""
    route = _default_route_interface()
    out = []
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        for _, name in socket.if_nameindex():
            req = struct.pack("256s", name.encode()[:15])
            try:
                ip = socket.inet_ntoa(fcntl.ioctl(s.fileno(), _SIOCGIFADDR, req)[20:24])
                flags = struct.unpack_from("H", fcntl.ioctl(s.fileno(), _SIOCGIFFLAGS, req), 16)[0]
            except OSError:  # no IPv4 address
                continue
            out.append(Interface(name, ip, bool(flags & _IFF_LOOPBACK),
                                 bool(flags & _IFF_UP and flags & _IFF_RUNNING),
                                 bool(flags & _IFF_MULTICAST), name.startswith(_VIRTUAL),
                                 name == route))
    return out


def choose_interfaces(candidates: list[Interface], wanted: str) -> list[Interface]:
    """The interfaces to beacon on. "" or "auto": loopback (so nodes of one host always find
    each other) plus the one up, multicast-capable, non-virtual LAN interface, preferring
    the default route's. A name or an IPv4 address: exactly that interface. Raises
    ValueError with a one-line reason when nothing fits."""
    seen = ", ".join(f"{c.name}={c.ip}" for c in candidates) or "none"
    if wanted and wanted != "auto":
        for c in candidates:
            if wanted in (c.name, c.ip):
                return [c]
        raise ValueError(f"no IPv4 interface named or addressed '{wanted}' (have: {seen})")
    chosen = [next((c for c in candidates if c.loopback and c.up), None)]
    lan = None
    for c in candidates:
        if c.loopback or not c.up or not c.multicast or c.virtual:
            continue
        if lan is None or (c.default_route and not lan.default_route):
            lan = c
    chosen = [c for c in chosen + [lan] if c is not None]
    if not chosen:
        raise ValueError(f"no usable IPv4 interface (have: {seen})")
    return chosen


class BeaconSocket:
    """One non-blocking UDP socket that multicasts beacons on the chosen interfaces and
    receives everyone's (§5.2). Several nodes of one host share the port: each gets its own
    copy of every multicast datagram."""

    def __init__(self, port: int, interfaces: list[Interface], group: str) -> None:
        self.port, self.group = port, group
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            self.sock.bind(("0.0.0.0", port))
            self.sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP, 1)
            self.sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 1)
            self.sock.setblocking(False)
            self.addrs = []
            for i in interfaces:
                mreq = socket.inet_aton(group) + socket.inet_aton(i.ip)
                try:
                    self.sock.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, mreq)
                except OSError as e:
                    if e.errno != errno.EADDRINUSE:  # joined there already (an alias address)
                        continue
                self.addrs.append(i.ip)
            if not self.addrs:
                raise OSError(f"cannot join beacon group {group} on any interface")
        except OSError:
            self.sock.close()
            raise

    def fileno(self) -> int:
        return self.sock.fileno()

    def send(self, datagram: bytes) -> int:
        """Sends datagram out of every interface. Returns how many sends failed."""
        failures = 0
        for ip in self.addrs:
            try:
                self.sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(ip))
                self.sock.sendto(datagram, (self.group, self.port))
            except OSError:
                failures += 1
        return failures

    def receive(self, max_size: int) -> tuple[bytes, str] | None:
        """(datagram, source IP), or None when nothing waits. One byte more than max_size
        is read, so that an oversized datagram is seen as such (§5.3)."""
        try:
            data, (ip, _) = self.sock.recvfrom(max_size + 1)
        except (BlockingIOError, InterruptedError):
            return None
        except OSError:  # a transient error: try again next time
            return None
        return data, ip

    def close(self) -> None:
        self.sock.close()
