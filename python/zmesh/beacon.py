# SPDX-License-Identifier: MPL-2.0
"""beacon: the discovery datagram (PROTOCOL.md §5.1), its signature (§5.4) and the replay
rule for signed beacons. Bytes and time passed in: no sockets, no clocks."""

from __future__ import annotations

import hashlib
import hmac
from typing import NamedTuple

import msgpack

from .wire import (MAX_MESH_LEN, MAX_NAME_LEN, VERSION, ProtocolError, depth, is_host, is_id,
                   is_str, is_uint, pack)

MAGIC = b"ZMSH"
MAX_BEACON_SIZE = 512
MAC_SIZE = 32
FLAG_SIGNED = 0x01
FLAG_ASKING = 0x02   # §5.2 rule 4 (revision 14): an observer asks members to beacon
MIN_SECRET_SIZE = 16
GROUP = "239.255.77.77"
DEFAULT_PORT = 5870

# §5.4 rule 3: how far a signed beacon's clock may be off ours, and how long copies of one
# beacon (one per interface it was sent on) may keep arriving.
MAX_CLOCK_SKEW_US = 30_000_000
COPIES_WINDOW = 1.0
MAX_REPLAY_IDS = 1024


class Beacon(NamedTuple):
    mesh: str
    id: bytes
    name: str
    host: str          # empty: dial the datagram's source address
    pub_port: int
    router_port: int
    sent_us: int       # signed beacons only; 0 otherwise
    signed: bool       # flag bit 0 was set
    authentic: bool    # signed, and the MAC matched the secret we were given
    asking: bool = False   # flag bit 1: an observer's question, never dialled


def mac(secret: bytes, data: bytes) -> bytes:
    """HMAC-SHA256 (RFC 2104) of data keyed with the mesh secret (§5.4)."""
    return hmac.new(secret, data, hashlib.sha256).digest()


def encode_beacon(mesh: str, nid: bytes, name: str, host: str, pub_port: int, router_port: int,
                  secret: bytes | None = None, sent_us: int = 0, asking: bool = False) -> bytes:
    """One beacon datagram; signed, with sent_us as its 7th field, when a secret is given;
    an observer's question with asking."""
    fields: list = [mesh, nid, name, host, pub_port, router_port]
    if secret is not None:
        fields.append(sent_us)
    flags = (FLAG_SIGNED if secret is not None else 0) | (FLAG_ASKING if asking else 0)
    d = MAGIC + bytes([VERSION, flags]) + pack(fields)
    if secret is not None:
        d += mac(secret, d)
    if len(d) > MAX_BEACON_SIZE:
        raise ValueError("beacon over 512 bytes: shorten the name, mesh or advertised host")
    return d


def decode_beacon(d: bytes, secret: bytes | None = None) -> Beacon:
    """The checks of §5.3 rule 1 (and the MAC of §5.4 when a secret is given). Raises
    ProtocolError for an invalid datagram; an unsigned or forged one decodes with
    authentic False, since the receiver drops it only after the id and mesh checks."""
    if not 6 <= len(d) <= MAX_BEACON_SIZE or d[:4] != MAGIC or d[4] != VERSION:
        raise ProtocolError("bad beacon size, magic or version")
    signed = bool(d[5] & FLAG_SIGNED)
    body = d[6:]
    authentic = False
    if signed:
        if len(d) < 6 + MAC_SIZE:
            raise ProtocolError("signed beacon shorter than its MAC")
        body = d[6:-MAC_SIZE]
        if secret is not None:
            authentic = hmac.compare_digest(mac(secret, d[:-MAC_SIZE]), d[-MAC_SIZE:])
    try:
        f = msgpack.unpackb(body, raw=False, unicode_errors="surrogateescape",
                            strict_map_key=False, max_array_len=4096, max_map_len=1024,
                            max_str_len=65536, max_bin_len=16 << 20, max_ext_len=1024)
    except Exception as e:
        raise ProtocolError(f"bad beacon body: {e}") from None
    if type(f) is not list or len(f) < (7 if signed else 6) or depth(f, 16) > 16:
        raise ProtocolError("beacon body is not an array of enough fields")
    mesh, nid, name, host, pub_port, router_port = f[:6]
    sent_us = f[6] if signed else 0
    if not (is_str(mesh, 1, MAX_MESH_LEN) and is_id(nid) and is_str(name, 1, MAX_NAME_LEN)
            and is_str(host, 0, 253) and (host == "" or is_host(host))
            and is_uint(pub_port) and 1 <= pub_port <= 65535
            and is_uint(router_port) and 1 <= router_port <= 65535 and is_uint(sent_us)):
        raise ProtocolError("bad beacon field")
    return Beacon(mesh, nid, name, host, pub_port, router_port, sent_us, signed, authentic,
                  bool(d[5] & FLAG_ASKING))


class ReplayGuard:
    """§5.4 rule 3: per id, the newest sent_us accepted and when it first arrived."""

    def __init__(self) -> None:
        self._newest: dict[bytes, tuple[int, float]] = {}

    def fresh(self, nid: bytes, sent_us: int, wall_us: int, now: float) -> bool:
        """Whether a signed beacon from nid, sent at sent_us by its clock, is fresh: wall_us
        is our clock (µs since the epoch), now a monotonic time in seconds."""
        if abs(sent_us - wall_us) > MAX_CLOCK_SKEW_US:
            return False
        seen = self._newest.get(nid)
        if seen is not None:
            newest, first = seen
            if sent_us < newest or (sent_us == newest and now - first > COPIES_WINDOW):
                return False
            if sent_us == newest:
                return True
        if len(self._newest) >= MAX_REPLAY_IDS and nid not in self._newest:
            self._newest.clear()
        self._newest[nid] = (sent_us, now)
        return True
