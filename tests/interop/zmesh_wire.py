"""The ZMESH/1 wire format for the foreign client (zmesh_client.py): constants, limits,
errors and codecs, written only from protocol/PROTOCOL.md. Bytes only: no sockets.

Uses Debian's python3-msgpack.
"""

import re
import struct

import msgpack

VERSION = 0x01

# Message types (§6.2).
HELLO, PING, PONG, LEAVE, PEERS, SUBS, STATS_QUERY, STATS = range(0x01, 0x09)
REQUEST, REPLY = 0x10, 0x11
EVENT = 0x20
CONTROL_TYPES = {HELLO: 7, PING: 1, PONG: 1, LEAVE: 0, PEERS: 1, SUBS: 1, STATS_QUERY: 0, STATS: 1}

# HELLO flags (§6.3).
FLAG_OBSERVER = 0x01
FLAG_WANT_REPLY = 0x02

# Limits (§2.2).
MAX_CONTROL_SIZE = 262144
MAX_EVENT_HEADER = 1024
MAX_RPC_HEADER = 4290
MAX_EVENT_SIZE = 1 << 20
MAX_RPC_SIZE = 1 << 20
MAX_RPC_MESSAGE = 4096

# RPC codes (§10.5).
NO_METHOD, BAD_REQUEST, HANDLER_FAILED, BUSY = -32601, -32602, -32603, -32000

# Endpoint grammar (§2.3).
_ENDPOINT = re.compile(r"tcp://([A-Za-z0-9.\-:\[\]_]{1,253}):([0-9]{1,5})\Z")


class ProtocolError(Exception):
    """An input that PROTOCOL.md says to drop."""


class RpcError(Exception):
    """A failed call (code != 0 in the REPLY, §10.5), or a local failure (code None).

    A method handler may raise it to answer with its own code and message."""

    def __init__(self, code, message):
        super().__init__(f"code {code}: {message}" if code is not None else message)
        self.code = code
        self.message = message


# ---------------------------------------------------------------------------------------------
# Encoding and decoding (§2, §6, §9.3, §10.3, §10.4)
# ---------------------------------------------------------------------------------------------

def _depth(obj):
    """Nesting depth of arrays and maps (a scalar is 0)."""
    if isinstance(obj, (list, tuple)):
        return 1 + max((_depth(x) for x in obj), default=0)
    if isinstance(obj, dict):
        return 1 + max((max(_depth(k), _depth(v)) for k, v in obj.items()), default=0)
    return 0


def _unpack_body(data, max_depth=16):
    """Exactly one msgpack object within the allocation bounds of §2.2, or ProtocolError.

    unpackb raises on trailing bytes, which §2.1 makes invalid."""
    try:
        obj = msgpack.unpackb(data, raw=False, unicode_errors="surrogateescape",
                              strict_map_key=False, max_array_len=4096, max_map_len=1024,
                              max_str_len=65536, max_bin_len=16 << 20, max_ext_len=1024)
    except Exception as e:  # any decoding failure; a str need not be UTF-8 (§2.1, Appendix B)
        raise ProtocolError(f"bad msgpack: {e}") from None
    if _depth(obj) > max_depth:
        raise ProtocolError("nested too deep")
    return obj


def split_rpc(frame):
    """An RPC frame (§10.2): version, type, the header array, then the body. Returns the
    decoded header and the body's bytes; raises ProtocolError. Only the first MAX_RPC_HEADER
    bytes are read for the header (§2.2)."""
    unpacker = msgpack.Unpacker(raw=False, unicode_errors="surrogateescape",
                                strict_map_key=False, max_array_len=4096, max_map_len=1024,
                                max_str_len=65536, max_bin_len=16 << 20, max_ext_len=1024)
    unpacker.feed(frame[2:MAX_RPC_HEADER])
    try:
        header = unpacker.unpack()
    except msgpack.OutOfData:
        raise ProtocolError("RPC header too large" if len(frame) > MAX_RPC_HEADER
                            else "truncated RPC header") from None
    except Exception as e:  # any decoding failure; a str need not be UTF-8 (§2.1, Appendix B)
        raise ProtocolError(f"bad msgpack: {e}") from None
    if _depth(header) > 16:
        raise ProtocolError("nested too deep")
    return header, frame[2 + unpacker.tell():]


def encode_rpc(msg_type, fields, body):
    """An RPC frame (§10.2): version, type, the header array, then the body's bytes."""
    return bytes([VERSION, msg_type]) + msgpack.packb(fields, use_bin_type=True) + body


def check_payload(data, limit):
    """A payload frame (§2.2): exactly one well-formed msgpack object, nested at most 64
    deep, no larger than limit. Returns the decoded object (strings that are not UTF-8 stay
    bytes, since §2.1 says receivers do not validate UTF-8)."""
    if len(data) > limit:
        raise ProtocolError("payload too large")
    try:
        obj = msgpack.unpackb(data, raw=True, strict_map_key=False)
    except Exception as e:
        raise ProtocolError(f"payload is not one msgpack object: {e}") from None
    if _depth(obj) > 64:
        raise ProtocolError("payload nested too deep")
    try:
        return msgpack.unpackb(data, raw=False, strict_map_key=False)
    except Exception:
        return obj


def _is_uint(x):
    return type(x) is int and x >= 0  # bool is an int subclass; msgpack true is not a uint


def str_bytes(s):
    """The bytes of a msgpack str as received, valid UTF-8 or not (§2.1, Appendix B)."""
    return s.encode("utf-8", "surrogateescape")


def _is_str(x, lo, hi):
    return type(x) is str and lo <= len(str_bytes(x)) <= hi


def _is_id(x):
    return type(x) is bytes and len(x) == 16 and any(x)  # bin16, not all zero (§2.1)


def _is_endpoint(x):
    if type(x) is not str or len(str_bytes(x)) > 300:
        return False
    m = _ENDPOINT.match(x)
    return bool(m) and 1 <= int(m.group(2)) <= 65535


def encode_control(msg_type, fields):
    """One control frame (§6.1): version, type, then the body array."""
    return bytes([VERSION, msg_type]) + msgpack.packb(list(fields), use_bin_type=True,
                                                      unicode_errors="surrogateescape")


def decode_control(frame):
    """(type, body) of a one-frame control message, checked as §11.1 orders (after the
    frame-count checks, which the caller makes). Raises ProtocolError."""
    if len(frame) < 2:
        raise ProtocolError("frame shorter than 2 bytes")
    if frame[0] != VERSION:
        raise ProtocolError("bad version")
    if frame[1] in (REQUEST, REPLY):
        raise ProtocolError("RPC type in a single frame")
    if len(frame) > MAX_CONTROL_SIZE:
        raise ProtocolError("control frame too large")
    body = _unpack_body(frame[2:])
    if type(body) is not list:
        raise ProtocolError("body is not an array")
    msg_type = frame[1]
    if msg_type not in CONTROL_TYPES:
        raise ProtocolError(f"unknown type {msg_type:#04x}")
    if len(body) < CONTROL_TYPES[msg_type]:
        raise ProtocolError("missing fields")  # extra elements are ignored (§11.4)
    return msg_type, body


def check_hello(b):
    """HELLO fields (§6.3). Returns a dict; services sorted bytewise, deduplicated."""
    mesh, nid, name, pub, router, flags, services = b[:7]
    if not (_is_str(mesh, 1, 64) and _is_id(nid) and _is_str(name, 1, 64) and _is_endpoint(pub)
            and _is_endpoint(router) and _is_uint(flags) and flags <= 255
            and type(services) is list and len(services) <= 256
            and all(_is_str(s, 1, 128) for s in services)):
        raise ProtocolError("bad HELLO field")
    # §6.3 fields 7 and 8 (revision 8): link tokens, 0 when absent.
    token, echo = (list(b[7:9]) + [0, 0])[:2]
    if not (_is_uint(token) and _is_uint(echo)):
        raise ProtocolError("bad HELLO token")
    return dict(mesh=mesh, id=nid, name=name, pub=pub, router=router, flags=flags,
                services=sorted(set(services), key=str_bytes), token=token, echo=echo)


def check_peers_list(b):
    """PEERS entries (§6.5); one bad entry invalidates the whole message."""
    lst = b[0]
    if type(lst) is not list or len(lst) > 256:
        raise ProtocolError("bad PEERS list")
    out = []
    for e in lst:
        if not (type(e) is list and len(e) >= 4 and _is_id(e[0]) and _is_str(e[1], 1, 64)
                and _is_endpoint(e[2]) and _is_endpoint(e[3])):
            raise ProtocolError("bad PEERS entry")
        out.append((e[0], e[1], e[2], e[3]))
    return out


def encode_event(sender, topic, seq, sent_us, payload_bytes):
    """An event's frames for send_multipart (§9.2): one frame, topic || 00 || header ||
    payload. The header is the reference's fixed 39-byte form (§9.3): bin 8 id, uint 64 seq
    and sent_us."""
    header = (bytes([VERSION, EVENT, 0x93, 0xC4, 0x10]) + sender
              + b"\xcf" + struct.pack(">Q", seq) + b"\xcf" + struct.pack(">Q", sent_us))
    return [topic + b"\x00" + header + payload_bytes]


def _read_uint(buf, pos):
    """An unsigned msgpack integer with the encodings §9.3 accepts; returns (value, pos)."""
    t = buf[pos]
    if t <= 0x7F:
        return t, pos + 1
    widths = {0xCC: 1, 0xCD: 2, 0xCE: 4, 0xCF: 8}
    if t not in widths:
        raise ProtocolError("seq/sent_us not an unsigned integer")
    n = widths[t]
    if pos + 1 + n > len(buf):
        raise ProtocolError("truncated header")
    return int.from_bytes(buf[pos + 1:pos + 1 + n], "big"), pos + 1 + n


def decode_event(frames):
    """Checks of §9.6 that need no node state. Returns (topic, sender, seq, sent_us,
    payload_bytes); raises ProtocolError."""
    if len(frames) != 1:
        raise ProtocolError("event is not one frame")
    frame = frames[0]
    end = frame.find(b"\x00", 0, 256)  # the topic's terminator, within 1..255 bytes
    if end < 1:
        raise ProtocolError("bad topic")
    topic, body = frame[:end], frame[end + 1:]
    if len(body) < 2 or body[0] != VERSION:
        raise ProtocolError("bad event version")
    if body[1] != EVENT:
        raise ProtocolError("header type is not EVENT")
    try:
        pos = 2
        t = body[pos]
        if 0x90 <= t <= 0x9F:  # fixarray, array 16, array 32 (§9.3)
            count, pos = t & 0x0F, pos + 1
        elif t == 0xDC:
            count, pos = struct.unpack_from(">H", body, pos + 1)[0], pos + 3
        elif t == 0xDD:
            count, pos = struct.unpack_from(">I", body, pos + 1)[0], pos + 5
        else:
            raise ProtocolError("header is not an array")
        if not 3 <= count <= 64:
            raise ProtocolError("header has not 3..64 elements")
        if body[pos:pos + 2] != b"\xc4\x10":  # sender: bin 8 of length 16 only
            raise ProtocolError("sender is not bin 8 of 16 bytes")
        sender = bytes(body[pos + 2:pos + 18])
        if len(sender) != 16:
            raise ProtocolError("truncated header")
        pos += 18
        seq, pos = _read_uint(body, pos)
        sent_us, pos = _read_uint(body, pos)
        if count > 3:  # reserved elements: any well-formed msgpack nested at most 8 deep
            unpacker = msgpack.Unpacker(raw=True, strict_map_key=False)
            unpacker.feed(body[pos:MAX_EVENT_HEADER])
            for _ in range(count - 3):
                extra = unpacker.unpack()
                if _depth(extra) > 8:
                    raise ProtocolError("reserved header element nested too deep")
            pos += unpacker.tell()
    except (IndexError, struct.error, msgpack.OutOfData, ValueError) as e:
        raise ProtocolError(f"bad event header: {e}") from None
    if pos > MAX_EVENT_HEADER:
        raise ProtocolError("event header over 1024 bytes")
    if seq == 0 or not any(sender):
        raise ProtocolError("seq 0 or all-zero sender")
    return bytes(topic), sender, seq, sent_us, bytes(body[pos:])
