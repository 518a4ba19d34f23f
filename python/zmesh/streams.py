# SPDX-License-Identifier: MPL-2.0
"""streams: the member's side of durable consumers (PROTOCOL.md §14.8): one session per
consumer and joined member, CONSUME when a session starts and again while unanswered or
refused, deduplication of DELIVERs, the deliveries held for the application (at most
max_in_flight), its settles batched into SETTLEs at the end of each reactor round, and END
when a consumer stops. Reactor thread only, except StreamMessage's settle methods.

Why the held seqs and two numbers per session are all the dedup memory needed: within one
publisher's life a record's first attempt goes out once, in rising seq order, and each
(seq, attempt) once (§14.5 rules 1 and 2). So on one session an attempt-1 DELIVER at or below
the highest attempt-1 seq handed is a duplicate, and a higher attempt of a seq not held is a
redelivery. A publisher that restarted counts attempts from 1 again from its stored
position: a first attempt at or below an earlier session's highest is handed as a
redelivery, since the application may have seen it (rule 4).
"""

from __future__ import annotations

import dataclasses
import datetime
import logging
import time
from typing import Any, Callable, Optional

from . import stream_wire as sw
from . import wire
from .core import Core
from .peers import Peer
from .stream_wire import ACK, IN_PROGRESS, NAK, TERM, SettleEntry
from .wire import ProtocolError

log = logging.getLogger("zmesh")

# How long a CONSUME waits for its ANSWER, and a refused one before it goes again: members
# without the stream answer at once, and a stream declared later is found within this. As
# the reference node does (Appendix A's 1000 ms is the consumer logic's own default).
CONSUME_RETRY = 2.0
MAX_CONSUMERS = 1024

_WAITING_LINK, _AWAITING_ANSWER, _CONSUMING, _REFUSED = range(4)


@dataclasses.dataclass(frozen=True)
class StreamMessage:
    """One delivery of a stream record, as a consumer's handler receives it. It may be kept
    and settled later, from any thread, once: ack(), nak(), term() (in_progress() any number
    of times before). A settle of a delivery the consumer no longer holds at this attempt
    (settled already, redelivered meanwhile, its link lost, its node stopped) is not sent,
    and counted in stream_settles_stale."""

    stream: str
    consumer: str
    publisher: bytes        # the node whose log holds it: (publisher, stream, seq) names it
    publisher_name: str
    seq: int
    attempt: int            # 1 the first delivery; more: a redelivery
    redelivered: bool       # it may have been handed (to this or another member) before
    stored_us: int          # when the publisher stored it, µs since the Unix epoch
    key: str                # "" when none
    payload: Any            # the decoded msgpack object, as for events
    _settle: Callable[[int, int, str], None] = dataclasses.field(repr=False, compare=False)

    @property
    def stored_at(self) -> datetime.datetime:
        """stored_us as an aware datetime in UTC."""
        return datetime.datetime.fromtimestamp(self.stored_us / 1e6, datetime.timezone.utc)

    @property
    def publisher_hex(self) -> str:
        """The publisher's node id as 32 hex digits."""
        return self.publisher.hex()

    def ack(self) -> None:
        """Processed: never delivered again."""
        self._settle(ACK, 0, "")

    def nak(self, delay: float = 0.0, error: str = "") -> None:
        """Not processed: another attempt after delay seconds (to any member); error is kept
        with it should it end as a dead letter (cut to 512 bytes)."""
        delay_ms = min(max(int(delay * 1000), 0), sw.MAX_STREAM_WAIT_MS)
        raw = error.encode("utf-8", "surrogateescape")[:sw.MAX_SETTLE_ERROR_LEN]
        self._settle(NAK, delay_ms, raw.decode("utf-8", "ignore"))

    def in_progress(self) -> None:
        """Still working on it: its ack wait starts again."""
        self._settle(IN_PROGRESS, 0, "")

    def term(self) -> None:
        """Never to be delivered again, and not a dead letter."""
        self._settle(TERM, 0, "")


class _Session:
    """One consumer with one publisher, between a CONSUME and the loss of the link."""

    __slots__ = ("phase", "retry_at", "held", "highest_first", "highest_before", "ordered")

    def __init__(self) -> None:
        self.phase = _WAITING_LINK
        self.retry_at = 0.0
        self.held: dict[int, int] = {}   # seq -> attempt handed, not yet settled
        self.highest_first = 0           # the highest seq handed at attempt 1 in this session
        self.highest_before = 0          # ...and in the sessions before it
        self.ordered = False             # by key, as the ANSWER said: first attempts rise per key

    def begin(self) -> None:
        self.highest_before = max(self.highest_before, self.highest_first)
        self.highest_first = 0
        self.held.clear()


class _Consumer:
    def __init__(self, cid: int, request: sw.Consume, handler: Callable[[StreamMessage], None]):
        self.id, self.request, self.handler = cid, request, handler
        self.consume_frame = sw.encode_consume(request)
        self.sessions: dict[bytes, _Session] = {}


class Streams:
    def __init__(self, core: Core) -> None:
        self.core, self.o, self.c = core, core.options, core.counters
        self.consumers: dict[int, _Consumer] = {}
        # Settles made this round, in order: [publisher, consumer id, [entries]] per batch.
        self._outgoing: list[list] = []

    # --- the application's commands --------------------------------------------------------

    def consume(self, cid: int, request: sw.Consume, handler: Callable[[StreamMessage], None]) -> None:
        c = _Consumer(cid, request, handler)
        self.consumers[cid] = c
        for p in self.core.mesh.peers.values():
            if p.member and not p.observer:
                self._start(c, p)

    def stop_consuming(self, cid: int) -> None:
        """Its settles made so far go first, then END, which hands back what it held."""
        if cid not in self.consumers:
            return
        self._flush()
        c = self.consumers.pop(cid)
        r = c.request
        for pid, s in c.sessions.items():
            p = self.core.mesh.peers.get(pid)
            if p is not None and s.phase in (_AWAITING_ANSWER, _CONSUMING):
                self._send(p, sw.encode_end(r.stream, r.consumer))

    def stop_all(self) -> None:
        for cid in list(self.consumers):
            self.stop_consuming(cid)

    def settle(self, cid: int, publisher: bytes, seq: int, attempt: int, kind: int,
               delay_ms: int, error: str) -> None:
        """§14.8 rule 3: only a delivery held at that attempt; batched until the round ends."""
        c = self.consumers.get(cid)
        s = c.sessions.get(publisher) if c else None
        if s is None or s.phase != _CONSUMING or s.held.get(seq) != attempt:
            self.c["stream_settles_stale"] += 1
            return
        if kind != IN_PROGRESS:
            del s.held[seq]
        self.c["stream_settles_sent"] += 1
        entry = SettleEntry(seq, attempt, kind, delay_ms if kind == NAK else 0, error if kind == NAK else "")
        last = self._outgoing[-1] if self._outgoing else None
        if last and last[0] == publisher and last[1] == cid and len(last[2]) < sw.MAX_SETTLE_BATCH:
            last[2].append(entry)
        else:
            self._outgoing.append([publisher, cid, [entry]])

    # --- the mesh's events -------------------------------------------------------------------

    def on_joined(self, p: Peer) -> None:
        if not p.observer:   # an observer publishes no stream
            for c in self.consumers.values():
                self._start(c, p)

    def on_link_up(self, p: Peer) -> None:
        """Rule 1: a new session, whether the link is new, came back, or reaches a publisher
        that restarted."""
        now = time.monotonic()
        for c in self.consumers.values():
            s = c.sessions.get(p.id)
            if s is not None:
                s.begin()
                self._send_consume(c, p, s, now)

    def on_link_lost(self, p: Peer) -> None:
        """Rule 2: what the sessions held is forgotten, settles not yet sent are dropped."""
        self._outgoing = [o for o in self._outgoing if o[0] != p.id]
        for c in self.consumers.values():
            s = c.sessions.get(p.id)
            if s is not None:
                s.begin()
                s.phase = _WAITING_LINK

    def on_removed(self, p: Peer) -> None:
        self._outgoing = [o for o in self._outgoing if o[0] != p.id]
        for c in self.consumers.values():
            c.sessions.pop(p.id, None)

    def _start(self, c: _Consumer, p: Peer) -> None:
        s = c.sessions.setdefault(p.id, _Session())
        s.begin()
        if p.link_up:
            self._send_consume(c, p, s, time.monotonic())
        else:
            s.phase = _WAITING_LINK

    def _send_consume(self, c: _Consumer, p: Peer, s: _Session, now: float) -> None:
        s.phase, s.retry_at = _AWAITING_ANSWER, now + CONSUME_RETRY
        self._send(p, c.consume_frame)

    def _send(self, p: Peer, frame: bytes) -> None:
        self.core.mesh.send_frame(p, frame)

    # --- frames (§14.3 - §14.7) ----------------------------------------------------------------

    def on_frame(self, p: Peer, frame: bytes) -> None:
        """A stream frame from a joined or evasive peer, on its link to our ROUTER. Malformed
        ones, and ANSWERs and DELIVERs for no session expecting them, are dropped and counted
        in stream_frames_invalid."""
        try:
            t = frame[1]
            if t == sw.DELIVER:
                self._on_deliver(p, sw.decode_deliver(frame, self.o.max_event_size))
            elif t == sw.ANSWER:
                self._on_answer(p, sw.decode_answer(frame))
            elif t == sw.CONSUME:  # we publish no stream (§14.4: every CONSUME is answered)
                m = sw.decode_consume(frame)
                self._send(p, sw.encode_answer(sw.Answer(m.stream, m.consumer, sw.STATUS_NO_STREAM, 0, 0, 0)))
            elif t == sw.SETTLE:   # for a consumer we do not know: ignored (§14.6)
                sw.decode_settle(frame)
            elif t == sw.END:
                sw.decode_end(frame)
            else:
                raise ProtocolError(f"unknown stream type {t:#04x}")
        except ProtocolError as e:
            self.c["stream_frames_invalid"] += 1
            log.debug("dropped stream frame from %s: %s", p.name, e)

    def _find(self, p: Peer, stream: str, consumer: str) -> tuple[Optional[_Consumer], Optional[_Session]]:
        for c in self.consumers.values():
            if c.request.stream == stream and c.request.consumer == consumer:
                return c, c.sessions.get(p.id)
        return None, None

    def _on_answer(self, p: Peer, a: sw.Answer) -> None:
        c, s = self._find(p, a.stream, a.consumer)
        if s is None or s.phase != _AWAITING_ANSWER:
            raise ProtocolError("ANSWER for no CONSUME waiting")
        if a.status == sw.STATUS_OK:
            s.phase = _CONSUMING
            s.ordered = a.order != sw.ORDER_NONE
        else:  # no such stream (yet), or a refusal of a later revision: asked again later
            s.phase, s.retry_at = _REFUSED, time.monotonic() + CONSUME_RETRY

    def _on_deliver(self, p: Peer, d: sw.Deliver) -> None:
        c, s = self._find(p, d.stream, d.consumer)
        if s is None or s.phase != _CONSUMING:
            raise ProtocolError("DELIVER for no consuming session")
        held = s.held.get(d.seq)
        if held is not None:
            if d.attempt <= held:
                self.c["stream_duplicates_dropped"] += 1
                return
            redelivered = True   # it replaces the older attempt, whose settle is now stale
        elif d.attempt == 1 and not s.ordered and d.seq <= s.highest_first:
            self.c["stream_duplicates_dropped"] += 1
            return
        elif len(s.held) >= c.request.max_in_flight:   # rule 5: the publisher sends it again
            self.c["stream_overflow_dropped"] += 1
            return
        else:
            if d.attempt == 1:
                s.highest_first = max(s.highest_first, d.seq)
            redelivered = d.attempt > 1 or d.seq <= s.highest_before
        s.held[d.seq] = d.attempt
        self.c["stream_delivered"] += 1
        if redelivered:
            self.c["stream_redelivered"] += 1
        try:
            obj = wire.unpack_payload(d.payload, self.o.max_event_size)
        except ProtocolError as e:   # not for the application: to the dead letters, with why
            self.c["stream_frames_invalid"] += 1
            return self.settle(c.id, p.id, d.seq, d.attempt, NAK, 0, f"zmesh: {e}")
        msg = StreamMessage(d.stream, d.consumer, p.id, p.name, d.seq, d.attempt, redelivered,
                            d.time_us, d.key, obj, self._settler(c.id, p.id, d.seq, d.attempt))
        self.core.delivery.submit(c.handler, msg, droppable=True)

    def _settler(self, cid: int, publisher: bytes, seq: int, attempt: int) -> Callable[[int, int, str], None]:
        post = self.core.reactor.post

        def settle(kind: int, delay_ms: int, error: str) -> None:   # any thread
            post(lambda: self.settle(cid, publisher, seq, attempt, kind, delay_ms, error))
        return settle

    # --- timers: the end of each round ---------------------------------------------------------

    def next_deadline(self) -> float:
        if self._outgoing:
            return 0.0
        return min((s.retry_at for c in self.consumers.values() for s in c.sessions.values()
                    if s.phase in (_AWAITING_ANSWER, _REFUSED)), default=float("inf"))

    def on_timer(self, now: float) -> None:
        self._flush()
        for c in self.consumers.values():
            for pid, s in c.sessions.items():
                p = self.core.mesh.peers.get(pid)
                if p is not None and s.phase in (_AWAITING_ANSWER, _REFUSED) and s.retry_at <= now:
                    self._send_consume(c, p, s, now)

    def _flush(self) -> None:
        """The settles of this round, one SETTLE per run of one consumer's, in order."""
        out, self._outgoing = self._outgoing, []
        for publisher, cid, entries in out:
            p = self.core.mesh.peers.get(publisher)
            c = self.consumers.get(cid)
            if p is not None and c is not None:
                self._send(p, sw.encode_settle(c.request.stream, c.request.consumer, entries))

