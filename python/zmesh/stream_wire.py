# SPDX-License-Identifier: MPL-2.0
"""stream_wire: the durable stream frames (PROTOCOL.md §14) as bytes: CONSUME, ANSWER,
DELIVER, SETTLE and END, one encoder and one checking decoder each. No sockets, no clocks.

Encoders raise ValueError for a field a receiver would refuse; decoders raise ProtocolError
for anything §14.2 says to drop, and nothing else.
"""

from __future__ import annotations

from typing import Any, NamedTuple, Sequence

import msgpack

from .wire import MAX_CONTROL_SIZE, VERSION, ProtocolError, depth, is_str, is_uint, pack

# Message types (§14.1); 0x35..0x3f are reserved for streams.
CONSUME, ANSWER, DELIVER, SETTLE, END = range(0x30, 0x35)

# Limits (§14.2).
MAX_STREAM_NAME_LEN = 255
MAX_RECORD_KEY_LEN = 255
MAX_STREAM_WAIT_MS = 86_400_000
MAX_BACKOFF_STEPS = 64
MAX_STREAM_DELIVERIES = 10_000
MAX_STREAM_IN_FLIGHT = 65_536
MAX_SETTLE_BATCH = 256
MAX_SETTLE_ERROR_LEN = 512
MAX_DELIVER_OVERHEAD = 1024

# CONSUME's start (§14.3).
START_NEW, START_FIRST, START_SEQ, START_TIME = range(4)
# ANSWER's status (§14.4): any other value is a refusal of a later revision.
STATUS_OK, STATUS_NO_STREAM = 0, 1
# CONSUME's and ANSWER's order (§14.3, §14.4; revision 11, absent means ORDER_NONE).
ORDER_NONE, ORDER_BY_KEY = 0, 1
# A SETTLE entry's kind (§14.6).
ACK, NAK, IN_PROGRESS, TERM = range(4)

# Extra fields (§11.4) and their contents are skipped, but bounded like a control body.
_MAX_EXTRA_DEPTH = 16


def is_stream_type(t: int) -> bool:
    return 0x30 <= t <= 0x3F


class Consume(NamedTuple):
    stream: str
    consumer: str
    start: int
    start_value: int
    ack_wait_ms: int
    max_deliveries: int
    backoff_ms: tuple[int, ...]
    max_in_flight: int
    order: int = ORDER_NONE


class Answer(NamedTuple):
    stream: str
    consumer: str
    status: int
    first_seq: int
    last_seq: int
    position: int
    order: int = ORDER_NONE   # any value but ORDER_NONE: first attempts rise per key only


class Deliver(NamedTuple):
    stream: str
    consumer: str
    seq: int
    attempt: int
    time_us: int
    key: str
    payload: bytes   # one msgpack object, not yet checked


class SettleEntry(NamedTuple):
    seq: int
    attempt: int
    kind: int
    delay_ms: int = 0
    error: str = ""


class Settle(NamedTuple):
    stream: str
    consumer: str
    entries: tuple[SettleEntry, ...]


class End(NamedTuple):
    stream: str
    consumer: str


# ---------------------------------------------------------------------------------------------
# Checks, shared by encoders (ValueError) and decoders (ProtocolError)
# ---------------------------------------------------------------------------------------------

def _name(x: Any) -> bool:
    return is_str(x, 1, MAX_STREAM_NAME_LEN)


def _in(x: Any, lo: int, hi: int) -> bool:
    return is_uint(x) and lo <= x <= hi


def _consume_ok(m: Consume) -> bool:
    return (_name(m.stream) and _name(m.consumer) and _in(m.start, 0, START_TIME)
            and is_uint(m.start_value) and _in(m.ack_wait_ms, 1, MAX_STREAM_WAIT_MS)
            and _in(m.max_deliveries, 1, MAX_STREAM_DELIVERIES)
            and isinstance(m.backoff_ms, (list, tuple)) and len(m.backoff_ms) <= MAX_BACKOFF_STEPS
            and all(_in(ms, 0, MAX_STREAM_WAIT_MS) for ms in m.backoff_ms)
            and _in(m.max_in_flight, 1, MAX_STREAM_IN_FLIGHT) and _in(m.order, 0, ORDER_BY_KEY))


def _answer_ok(m: Answer) -> bool:
    return (_name(m.stream) and _name(m.consumer) and _in(m.status, 0, 255)
            and is_uint(m.first_seq) and is_uint(m.last_seq) and is_uint(m.position)
            and _in(m.order, 0, 255))


def _deliver_ok(m: Deliver) -> bool:
    return (_name(m.stream) and _name(m.consumer) and _in(m.seq, 1, (1 << 64) - 1)
            and _in(m.attempt, 1, (1 << 32) - 1) and is_uint(m.time_us)
            and is_str(m.key, 0, MAX_RECORD_KEY_LEN) and type(m.payload) is bytes)


def _entry_ok(e: Any) -> bool:
    return (_in(e[0], 1, (1 << 64) - 1) and _in(e[1], 1, (1 << 32) - 1) and _in(e[2], 0, TERM)
            and _in(e[3], 0, MAX_STREAM_WAIT_MS) and is_str(e[4], 0, MAX_SETTLE_ERROR_LEN))


# ---------------------------------------------------------------------------------------------
# Encoding
# ---------------------------------------------------------------------------------------------

def _frame(msg_type: int, fields: list) -> bytes:
    return bytes([VERSION, msg_type]) + pack(fields)


def encode_consume(m: Consume) -> bytes:
    if not _consume_ok(m):
        raise ValueError("CONSUME field outside PROTOCOL.md §14.3's bounds")
    return _frame(CONSUME, [m.stream, m.consumer, m.start, m.start_value, m.ack_wait_ms,
                            m.max_deliveries, list(m.backoff_ms), m.max_in_flight, m.order])


def encode_answer(m: Answer) -> bytes:
    if not _answer_ok(m):
        raise ValueError("ANSWER field outside PROTOCOL.md §14.4's bounds")
    return _frame(ANSWER, list(m))


def encode_deliver(m: Deliver) -> bytes:
    if not _deliver_ok(m):
        raise ValueError("DELIVER field outside PROTOCOL.md §14.5's bounds")
    return _frame(DELIVER, list(m))


def encode_settle(stream: str, consumer: str, entries: Sequence[SettleEntry]) -> bytes:
    if not (_name(stream) and _name(consumer) and 1 <= len(entries) <= MAX_SETTLE_BATCH
            and all(_entry_ok(e) for e in entries)):
        raise ValueError("SETTLE field outside PROTOCOL.md §14.6's bounds")
    return _frame(SETTLE, [stream, consumer, [list(e) for e in entries]])


def encode_end(stream: str, consumer: str) -> bytes:
    if not (_name(stream) and _name(consumer)):
        raise ValueError("stream and consumer names are 1..255 bytes")
    return _frame(END, [stream, consumer])


# ---------------------------------------------------------------------------------------------
# Decoding
# ---------------------------------------------------------------------------------------------

def _body(frame: bytes, msg_type: int, fields: int, max_size: int) -> list:
    """The body array of a stream frame of msg_type with at least fields fields, filling
    the frame exactly; what follows them is only bounded in depth."""
    if len(frame) < 2 or frame[0] != VERSION:
        raise ProtocolError("bad version", "frames_bad_version")
    if frame[1] != msg_type:
        raise ProtocolError(f"not a frame of type {msg_type:#04x}")
    if len(frame) > max_size:
        raise ProtocolError("stream frame too large")
    try:
        body = msgpack.unpackb(frame[2:], raw=False, unicode_errors="surrogateescape",
                               strict_map_key=False, max_bin_len=len(frame),
                               max_str_len=len(frame), max_array_len=len(frame),
                               max_map_len=len(frame), max_ext_len=len(frame))
    except Exception as e:  # any decoding failure is the sender's fault
        raise ProtocolError(f"bad msgpack: {e}") from None
    if type(body) is not list or len(body) < fields:
        raise ProtocolError("body is not an array of enough fields")
    if any(depth(x, _MAX_EXTRA_DEPTH) > _MAX_EXTRA_DEPTH for x in body[fields:]):
        raise ProtocolError("extra field nested too deep")
    return body


def decode_consume(frame: bytes) -> Consume:
    b = _body(frame, CONSUME, 8, MAX_CONTROL_SIZE)
    backoff = b[6]
    if type(backoff) is not list:
        raise ProtocolError("CONSUME backoff is not an array")
    m = Consume(*b[:6], tuple(backoff), b[7], *b[8:9])   # order: revision 11, optional
    if not _consume_ok(m):
        raise ProtocolError("bad CONSUME field")
    return m


def decode_answer(frame: bytes) -> Answer:
    m = Answer(*_body(frame, ANSWER, 6, MAX_CONTROL_SIZE)[:7])   # order: revision 11, optional
    if not _answer_ok(m):
        raise ProtocolError("bad ANSWER field")
    return m


def decode_deliver(frame: bytes, max_payload: int) -> Deliver:
    """A DELIVER whose payload is at most max_payload bytes and the rest of it at most
    MAX_DELIVER_OVERHEAD (§14.2)."""
    m = Deliver(*_body(frame, DELIVER, 7, max_payload + MAX_DELIVER_OVERHEAD)[:7])
    if not _deliver_ok(m):
        raise ProtocolError("bad DELIVER field")
    if len(m.payload) > max_payload or len(frame) - len(m.payload) > MAX_DELIVER_OVERHEAD:
        raise ProtocolError("DELIVER too large")
    return m


def decode_settle(frame: bytes) -> Settle:
    b = _body(frame, SETTLE, 3, MAX_CONTROL_SIZE)
    stream, consumer, entries = b[:3]
    if not (_name(stream) and _name(consumer) and type(entries) is list
            and 1 <= len(entries) <= MAX_SETTLE_BATCH):
        raise ProtocolError("bad SETTLE field")
    out = []
    for e in entries:
        if type(e) is not list or len(e) < 5 or not _entry_ok(e):
            raise ProtocolError("bad SETTLE entry")
        out.append(SettleEntry(*e[:5]))
    return Settle(stream, consumer, tuple(out))


def decode_end(frame: bytes) -> End:
    m = End(*_body(frame, END, 2, MAX_CONTROL_SIZE)[:2])
    if not (_name(m.stream) and _name(m.consumer)):
        raise ProtocolError("bad END field")
    return m

