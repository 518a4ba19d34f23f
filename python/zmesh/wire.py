# SPDX-License-Identifier: MPL-2.0
"""wire: the ZMESH/1 frames (protocol/PROTOCOL.md §2, §6, §9, §10) as bytes: constants,
limits, one encoder and one checking decoder per message. No sockets, no clocks.

Every decoder raises ProtocolError for input the spec says to drop, and nothing else: a
msgpack exception never leaves this module.
"""

from __future__ import annotations

import re
import struct
from typing import Any, NamedTuple

import msgpack

VERSION = 0x01

# Message types (§6.2).
HELLO, PING, PONG, LEAVE, PEERS, SUBS, STATS_QUERY, STATS = range(0x01, 0x09)
REQUEST, REPLY = 0x10, 0x11
EVENT = 0x20
# The fields each control message must have at least (§6.2); more are ignored (§11.4).
CONTROL_TYPES = {HELLO: 7, PING: 1, PONG: 1, LEAVE: 0, PEERS: 1, SUBS: 1, STATS_QUERY: 0, STATS: 1}

# HELLO flags (§6.3).
FLAG_OBSERVER = 0x01
FLAG_WANT_REPLY = 0x02
FLAG_CALL_LINKS = 0x04

# Limits (§2.2).
MAX_MESH_LEN = 64
MAX_NAME_LEN = 64
MAX_CONTROL_SIZE = 262144
MAX_PEERS_PER_LIST = 256
MAX_SERVICES = 256
MAX_SERVICE_LEN = 128
MAX_TOPIC_LEN = 255
MAX_SUBSCRIPTIONS = 1000
MAX_SUBSCRIPTION_BYTES = 65536
MAX_STATS_COUNTERS = 256
MAX_EVENT_HEADER = 1024
MAX_RPC_HEADER = 4290
MAX_EVENT_SIZE = 1 << 20
MAX_RPC_SIZE = 1 << 20
MAX_RPC_MESSAGE = 4096
MAX_PAYLOAD_DEPTH = 64

# RPC codes sent by a server itself (§10.5).
NO_METHOD, BAD_REQUEST, HANDLER_FAILED, BUSY = -32601, -32602, -32603, -32000

# Endpoint grammar (§2.3): the port is everything after the last ':'.
_ENDPOINT = re.compile(r"tcp://([A-Za-z0-9._\-]{1,253}|\[[A-Za-z0-9._\-:]{1,251}\]):([0-9]{1,5})\Z")
_HOST = re.compile(r"([A-Za-z0-9._\-]{1,253}|\[[A-Za-z0-9._\-:]{1,251}\])\Z")

# Allocation bounds for control bodies and RPC headers (§2.2).
_BOUNDS = dict(max_array_len=4096, max_map_len=1024, max_str_len=65536, max_bin_len=16 << 20,
               max_ext_len=1024)


class ProtocolError(Exception):
    """An input that PROTOCOL.md says to drop (or, for a request, to answer with an error).
    counter names the C++ node's counter for it when that is not the caller's default."""

    def __init__(self, message: str, counter: str | None = None):
        super().__init__(message)
        self.counter = counter


# ---------------------------------------------------------------------------------------------
# Field checks (§2.1)
# ---------------------------------------------------------------------------------------------

def depth(obj: Any, limit: int) -> int:
    """Nesting depth of arrays and maps (a scalar is 0), counted up to limit + 1: iterative,
    so that hostile nesting cannot exhaust Python's recursion limit."""
    deepest = 0
    stack = [(obj, 0)]
    while stack:
        o, d = stack.pop()
        if isinstance(o, (list, tuple)):
            items = o
        elif isinstance(o, dict):
            items = [x for kv in o.items() for x in kv]
        else:
            continue
        d += 1
        if d > deepest:
            deepest = d
            if deepest > limit:
                return deepest
        stack.extend((x, d) for x in items)
    return deepest


def str_bytes(s: str) -> bytes:
    """The bytes of a msgpack str as received, valid UTF-8 or not (§2.1, Appendix B)."""
    return s.encode("utf-8", "surrogateescape")


def is_uint(x: Any, bits: int = 64) -> bool:
    # bool is an int subclass, but msgpack true is not a uint.
    return type(x) is int and 0 <= x < (1 << bits)


def is_str(x: Any, lo: int, hi: int) -> bool:
    return type(x) is str and lo <= len(str_bytes(x)) <= hi


def is_id(x: Any) -> bool:
    return type(x) is bytes and len(x) == 16 and any(x)  # bin16, not all zero


def is_host(x: Any) -> bool:
    return type(x) is str and bool(_HOST.match(x))


def is_endpoint(x: Any) -> bool:
    if type(x) is not str or len(str_bytes(x)) > 300:
        return False
    m = _ENDPOINT.match(x)
    return bool(m) and 1 <= int(m.group(2)) <= 65535


def _unpack_body(data: bytes) -> Any:
    """Exactly one msgpack object within the bounds of §2.2 (trailing bytes are invalid,
    §2.1), or ProtocolError."""
    try:
        obj = msgpack.unpackb(data, raw=False, unicode_errors="surrogateescape",
                              strict_map_key=False, **_BOUNDS)
    except Exception as e:  # any decoding failure is the sender's fault
        raise ProtocolError(f"bad msgpack: {e}") from None
    if depth(obj, 16) > 16:
        raise ProtocolError("nested too deep")
    return obj


def pack(obj: Any) -> bytes:
    """msgpack as this node sends it: str as str, bytes as bin (Appendix B)."""
    return msgpack.packb(obj, use_bin_type=True, unicode_errors="surrogateescape")


def unpack_payload(data: bytes, limit: int) -> Any:
    """A payload (§2.2): exactly one msgpack object, nested at most 64 deep, at most limit
    bytes. Returns it decoded; a str that is not UTF-8 keeps its bytes as surrogates."""
    if len(data) > limit:
        raise ProtocolError("payload too large")
    try:
        try:
            obj = msgpack.unpackb(data, raw=False, unicode_errors="surrogateescape",
                                  strict_map_key=False)
        except TypeError:  # a map keyed by an array: the payload is valid, keep it as tuples
            obj = msgpack.unpackb(data, raw=False, unicode_errors="surrogateescape",
                                  strict_map_key=False, use_list=False)
    except Exception as e:
        raise ProtocolError(f"payload is not one msgpack object: {e}") from None
    if depth(obj, MAX_PAYLOAD_DEPTH) > MAX_PAYLOAD_DEPTH:
        raise ProtocolError("payload nested too deep")
    return obj


# ---------------------------------------------------------------------------------------------
# Control frames (§6)
# ---------------------------------------------------------------------------------------------

def encode_control(msg_type: int, fields: list) -> bytes:
    """One control frame (§6.1): version, type, then the body array."""
    return bytes([VERSION, msg_type]) + pack(list(fields))


def decode_control(frame: bytes) -> tuple[int, list]:
    """(type, body) of one control frame, checked in the order of §11.1 (after the frame
    count, which the caller checks). Raises ProtocolError."""
    if len(frame) < 2:
        raise ProtocolError("frame shorter than 2 bytes")
    if frame[0] != VERSION:
        raise ProtocolError("bad version", "frames_bad_version")
    if frame[1] in (REQUEST, REPLY):
        raise ProtocolError("RPC type read as a control frame")
    if len(frame) > MAX_CONTROL_SIZE:
        raise ProtocolError("control frame too large")
    body = _unpack_body(frame[2:])
    if type(body) is not list:
        raise ProtocolError("body is not an array")
    msg_type = frame[1]
    if msg_type not in CONTROL_TYPES:
        raise ProtocolError(f"unknown type {msg_type:#04x}", "frames_unknown_type")
    if len(body) < CONTROL_TYPES[msg_type]:
        raise ProtocolError("missing fields")
    return msg_type, body


class Hello(NamedTuple):
    mesh: str
    id: bytes
    name: str
    pub: str
    router: str
    flags: int
    services: tuple[str, ...]   # sorted bytewise, without duplicates (§6.3)
    token: int                  # §7.8: the link token the sender gives us; 0 = none
    echo: int                   # our token, quoted back; 0 = none


def encode_hello(mesh: str, nid: bytes, name: str, pub: str, router: str, flags: int,
                 services: list[str], token: int, echo: int) -> bytes:
    """A HELLO (§6.3); services are sent sorted bytewise without duplicates."""
    services = sorted(set(services), key=str_bytes)
    return encode_control(HELLO, [mesh, nid, name, pub, router, flags, services, token, echo])


def check_hello(b: list) -> Hello:
    """HELLO fields (§6.3); raises ProtocolError for any field out of range."""
    mesh, nid, name, pub, router, flags, services = b[:7]
    if not (is_str(mesh, 1, MAX_MESH_LEN) and is_id(nid) and is_str(name, 1, MAX_NAME_LEN)
            and is_endpoint(pub) and is_endpoint(router) and is_uint(flags) and flags <= 255
            and type(services) is list and len(services) <= MAX_SERVICES
            and all(is_str(s, 1, MAX_SERVICE_LEN) for s in services)):
        raise ProtocolError("bad HELLO field")
    token, echo = (list(b[7:9]) + [0, 0])[:2]
    if not (is_uint(token) and is_uint(echo)):
        raise ProtocolError("bad HELLO token")
    return Hello(mesh, nid, name, pub, router, flags,
                 tuple(sorted(set(services), key=str_bytes)), token, echo)


def check_token(b: list) -> int:
    """The one uint field of PING and PONG, or LEAVE's optional token (0 when absent)."""
    token = b[0] if b else 0
    if not is_uint(token):
        raise ProtocolError("bad token")
    return token


def check_peers(b: list) -> list[tuple[bytes, str, str, str]]:
    """PEERS entries (§6.5): (id, name, pub, router); one bad entry invalidates all."""
    lst = b[0]
    if type(lst) is not list or len(lst) > MAX_PEERS_PER_LIST:
        raise ProtocolError("bad PEERS list")
    out = []
    for e in lst:
        if not (type(e) is list and len(e) >= 4 and is_id(e[0]) and is_str(e[1], 1, MAX_NAME_LEN)
                and is_endpoint(e[2]) and is_endpoint(e[3])):
            raise ProtocolError("bad PEERS entry")
        out.append((e[0], e[1], e[2], e[3]))
    return out


def check_subs(b: list) -> tuple[str, ...]:
    """SUBS prefixes (§6.7), sorted bytewise without duplicates."""
    lst = b[0]
    if type(lst) is not list or len(lst) > MAX_SUBSCRIPTIONS or not all(
            is_str(x, 0, MAX_TOPIC_LEN) for x in lst):
        raise ProtocolError("bad SUBS")
    return tuple(sorted(set(lst), key=str_bytes))


def check_stats(b: list) -> dict[str, int]:
    """STATS counters (§6.9)."""
    m = b[0]
    if type(m) is not dict or len(m) > MAX_STATS_COUNTERS or not all(
            is_str(k, 0, 64) and is_uint(v) for k, v in m.items()):
        raise ProtocolError("bad STATS")
    return dict(m)


# ---------------------------------------------------------------------------------------------
# RPC (§10)
# ---------------------------------------------------------------------------------------------

def _split_rpc(frame: bytes) -> tuple[Any, bytes]:
    """The header array of an RPC frame, read within its first MAX_RPC_HEADER bytes (§10.2),
    and the body's bytes after it."""
    unpacker = msgpack.Unpacker(raw=False, unicode_errors="surrogateescape",
                                strict_map_key=False, **_BOUNDS)
    unpacker.feed(frame[2:MAX_RPC_HEADER])
    try:
        header = unpacker.unpack()
    except msgpack.OutOfData:
        raise ProtocolError("RPC header too large" if len(frame) > MAX_RPC_HEADER
                            else "truncated RPC header") from None
    except Exception as e:
        raise ProtocolError(f"bad msgpack: {e}") from None
    if type(header) is not list or depth(header, 16) > 16:
        raise ProtocolError("RPC header is not an array, or nested too deep")
    return header, frame[2 + unpacker.tell():]


def encode_request(call_id: int, method: str, timeout_ms: int, args: bytes) -> bytes:
    """A REQUEST (§10.3): header then the packed arguments."""
    return bytes([VERSION, REQUEST]) + pack([call_id, method, timeout_ms]) + args


def encode_reply(call_id: int, code: int, message: str, result: bytes = b"\xc0") -> bytes:
    """A REPLY (§10.4): the message cut to 4096 bytes (never inside a UTF-8 sequence)."""
    raw = message.encode("utf-8", "surrogateescape")[:MAX_RPC_MESSAGE]
    message = raw.decode("utf-8", "ignore")
    return bytes([VERSION, REPLY]) + pack([call_id, code, message]) + result


def decode_request(frame: bytes) -> tuple[int, str, int, bytes]:
    """(id, method, timeout_ms, argument bytes) of a REQUEST (§10.3, §10.7 rule 1)."""
    h, args = _split_rpc(frame)
    if not (len(h) >= 3 and is_uint(h[0]) and is_str(h[1], 1, MAX_SERVICE_LEN) and is_uint(h[2])):
        raise ProtocolError("bad REQUEST header")
    return h[0], h[1], h[2], args


def decode_reply(frame: bytes) -> tuple[int, int, str, bytes]:
    """(id, code, message, result bytes) of a REPLY (§10.4); the filler is skipped."""
    h, result = _split_rpc(frame)
    if not (len(h) >= 3 and is_uint(h[0]) and type(h[1]) is int and -(1 << 63) <= h[1] < (1 << 63)
            and is_str(h[2], 0, MAX_RPC_MESSAGE)):
        raise ProtocolError("bad REPLY header")
    return h[0], h[1], h[2], result


# ---------------------------------------------------------------------------------------------
# Events (§9.2, §9.3)
# ---------------------------------------------------------------------------------------------

class EventFrame(NamedTuple):
    topic: bytes
    sender: bytes
    seq: int
    sent_us: int
    payload: bytes   # one msgpack object, not yet checked


def check_topic(topic: bytes, empty_ok: bool = False) -> None:
    """A topic is 1..255 bytes without NUL; a prefix may be empty (§9.4)."""
    if not (0 if empty_ok else 1) <= len(topic) <= MAX_TOPIC_LEN or b"\x00" in topic:
        raise ValueError(f"a {'prefix' if empty_ok else 'topic'} is "
                         f"{0 if empty_ok else 1}..255 bytes without NUL (§9.4)")


def encode_event(sender: bytes, topic: bytes, seq: int, sent_us: int, payload: bytes) -> bytes:
    """One event frame (§9.2): topic, 00, the reference's fixed 39-byte header (§9.3), then
    the payload."""
    return (topic + b"\x00" + bytes([VERSION, EVENT, 0x93, 0xC4, 0x10]) + sender
            + b"\xcf" + struct.pack(">Q", seq) + b"\xcf" + struct.pack(">Q", sent_us) + payload)


_UINT_WIDTHS = {0xCC: 1, 0xCD: 2, 0xCE: 4, 0xCF: 8}


def _read_uint(buf: bytes, pos: int) -> tuple[int, int]:
    """An unsigned integer in one of the encodings §9.3 accepts; returns (value, next pos)."""
    t = buf[pos]
    if t <= 0x7F:
        return t, pos + 1
    n = _UINT_WIDTHS.get(t)
    if n is None or pos + 1 + n > len(buf):
        raise ProtocolError("seq/sent_us not an unsigned integer")
    return int.from_bytes(buf[pos + 1:pos + 1 + n], "big"), pos + 1 + n


def decode_event(frame: bytes) -> EventFrame:
    """The checks of §9.6 that need no node state, in their order. Raises ProtocolError
    (counter frames_bad_version when the header's version byte is the failure)."""
    end = frame.find(b"\x00", 0, 256)  # the topic's end, within 1..255 bytes
    if end < 1:
        raise ProtocolError("bad topic")
    topic, body = frame[:end], frame[end + 1:]
    if len(body) < 1 or body[0] != VERSION:
        raise ProtocolError("bad event version", "frames_bad_version")
    if len(body) < 2 or body[1] != EVENT:
        raise ProtocolError("header type is not EVENT")
    try:
        pos = 2
        t = body[pos]
        if 0x90 <= t <= 0x9F:
            count, pos = t & 0x0F, pos + 1
        elif t == 0xDC:
            count, pos = struct.unpack_from(">H", body, pos + 1)[0], pos + 3
        elif t == 0xDD:
            count, pos = struct.unpack_from(">I", body, pos + 1)[0], pos + 5
        else:
            raise ProtocolError("header is not an array")
        if not 3 <= count <= 64:
            raise ProtocolError("header has not 3..64 elements")
        if body[pos:pos + 2] != b"\xc4\x10":  # the sender: bin 8 of 16 bytes only
            raise ProtocolError("sender is not bin 8 of 16 bytes")
        sender = bytes(body[pos + 2:pos + 18])
        if len(sender) != 16:
            raise ProtocolError("truncated header")
        pos += 18
        seq, pos = _read_uint(body, pos)
        sent_us, pos = _read_uint(body, pos)
        if count > 3:  # reserved elements: any msgpack nested at most 8 deep
            unpacker = msgpack.Unpacker(raw=True, strict_map_key=False, use_list=False)
            unpacker.feed(body[pos:MAX_EVENT_HEADER])
            for _ in range(count - 3):
                if depth(unpacker.unpack(), 8) > 8:
                    raise ProtocolError("reserved header element nested too deep")
            pos += unpacker.tell()
    except ProtocolError:
        raise
    except Exception as e:  # truncated or malformed: IndexError, struct.error, OutOfData...
        raise ProtocolError(f"bad event header: {e}") from None
    if pos > MAX_EVENT_HEADER:
        raise ProtocolError("event header over 1024 bytes")
    if seq == 0 or not any(sender):
        raise ProtocolError("seq 0 or all-zero sender")
    return EventFrame(bytes(topic), sender, seq, sent_us, bytes(body[pos:]))
