# SPDX-License-Identifier: MPL-2.0
"""pubsub: events (PROTOCOL.md §9): the PUB, the SUB connected to peers' PUBs while this node
subscribes, SUBS, sequence numbers and gaps, events held until their sender joins, and the
drain after a peer leaves. Reactor thread only."""

from __future__ import annotations

import dataclasses
import logging
import time
from typing import Any, Callable, Optional

import zmq
from zmq.utils.monitor import recv_monitor_message

from . import wire
from .core import Core
from .peers import CONNECTING, Peer
from .wire import SUBS, ProtocolError

log = logging.getLogger("zmesh")

_BATCH = 1000
_EARLY_EVENTS, _EARLY_BYTES = 4096, 4 << 20     # held per sender still connecting (§9.6)
_MAX_TOPICS = 65536                             # sequence state per sender, then reset (§9.5, §9.7)


@dataclasses.dataclass(frozen=True)
class Event:
    """One event as a handler receives it."""

    topic: str
    payload: Any          # the decoded msgpack object
    sender: bytes         # the publisher's node id
    sender_name: str
    seq: int              # 1, 2, 3... per (sender, topic): a jump is a gap, counted in stats
    sent_us: int          # when it was published, by the publisher's clock (µs since the epoch)

    @property
    def sender_hex(self) -> str:
        """The publisher's node id as 32 hex digits."""
        return self.sender.hex()


class PubSub:
    def __init__(self, core: Core) -> None:
        self.core, self.o, self.c = core, core.options, core.counters
        ctx = core.ctx
        self.pub = ctx.socket(zmq.PUB)
        self.pub.setsockopt(zmq.LINGER, 0)
        self.pub.setsockopt(zmq.SNDHWM, self.o.hwm)
        self.pub.setsockopt(zmq.MAXMSGSIZE, 512)   # only subscriptions come in (§9.4 rule 6)
        self.pub.setsockopt(zmq.RCVHWM, 64)
        core.curve_server(self.pub)
        self.pub.bind(f"tcp://{self.o.bind}:{self.o.pub_port or '*'}")
        self.bound_port = int(self.pub.getsockopt_string(zmq.LAST_ENDPOINT).rpartition(":")[2])
        self.sub = ctx.socket(zmq.SUB)
        self.sub.setsockopt(zmq.LINGER, 0)
        self.sub.setsockopt(zmq.RCVHWM, self.o.hwm)
        self.sub.setsockopt(zmq.MAXMSGSIZE, wire.MAX_EVENT_HEADER + self.o.max_event_size)
        self.monitor = self.sub.get_monitor_socket(
            zmq.EVENT_HANDSHAKE_SUCCEEDED | zmq.EVENT_DISCONNECTED)
        core.reactor.watch(self.sub, self.on_sub)
        core.reactor.watch(self.monitor, self._on_monitor)
        self.prefixes: dict[bytes, dict[int, Callable[[Event], None]]] = {}
        self.connected = False            # the SUB is connected to peers (§4.2 rule 5)
        self.endpoints: set[str] = set()  # pub endpoints it is connected to
        self.up: set[str] = set()         # ...whose handshake completed (§9.8 rule 1)
        self.topic_seq: dict[bytes, int] = {}
        self.last_seq: dict[bytes, dict[bytes, int]] = {}          # sender -> topic -> seq
        self.early: dict[bytes, list] = {}                         # sender -> [frames, bytes]
        self.draining: dict[bytes, list] = {}                      # sender -> [ep, name, until]
        self.paused = False

    # --- subscriptions (§9.4, §9.8) --------------------------------------------------------

    def subscribe(self, sub_id: int, prefix: bytes, handler: Callable[[Event], None]) -> None:
        new = prefix not in self.prefixes
        self.prefixes.setdefault(prefix, {})[sub_id] = handler
        if not new:
            return
        self.sub.setsockopt(zmq.SUBSCRIBE, prefix)
        if not self.connected:  # the first subscription connects the SUB to every peer
            self.connected = True
            for p in self.core.mesh.peers.values():
                self._connect(p)
        self._send_subs_to_all()

    def unsubscribe(self, sub_id: int) -> None:
        for prefix, handlers in list(self.prefixes.items()):
            if handlers.pop(sub_id, None) is not None and not handlers:
                del self.prefixes[prefix]
                self.sub.setsockopt(zmq.UNSUBSCRIBE, prefix)
                # §9.7: what is published on topics no longer covered is not missed.
                for topics in self.last_seq.values():
                    for t in [t for t in topics if not self._covered(t)]:
                        del topics[t]
                self._send_subs_to_all()

    def _covered(self, topic: bytes) -> bool:
        return any(topic.startswith(x) for x in self.prefixes)

    def _connect(self, p: Peer) -> None:
        if p.pub in self.endpoints:  # kept from a drain (§4.2 rule 5: never two connections)
            return
        self.core.curve_client(self.sub, p.key)
        try:
            self.sub.connect(p.pub)
        except zmq.ZMQError as e:
            log.info("cannot connect to %s's events at %s: %s", p.name, p.pub, e)
            return
        self.endpoints.add(p.pub)

    def send_subs(self, p: Peer) -> None:
        """§9.8 rule 1: once the peer is a member and our SUB's connection to it is up (at
        once when we subscribe to nothing and have no such connection)."""
        if p.member and not self.o.observer and (not self.connected or p.pub in self.up):
            names = [x.decode("utf-8", "surrogateescape") for x in sorted(self.prefixes)]
            self.core.mesh.send(p, SUBS, [names])

    def _send_subs_to_all(self) -> None:
        for p in self.core.mesh.peers.values():
            self.send_subs(p)

    def on_subs(self, p: Peer, prefixes: tuple[str, ...]) -> None:
        # §9.8 rule 3: make the PUB take in subscriptions already received first.
        self.pub.getsockopt(zmq.EVENTS)
        p.subscriptions = prefixes
        self.core.changed()

    # --- the mesh's events ----------------------------------------------------------------

    def on_dial(self, p: Peer) -> None:
        self.draining.pop(p.id, None)
        if self.connected:
            self._connect(p)

    def on_joined(self, p: Peer) -> None:
        self.send_subs(p)
        held = self.early.pop(p.id, None)
        for frame in held[0] if held else ():
            self._accept(wire.decode_event(frame), p, None)

    def on_removed(self, p: Peer, reason: Optional[str], was_member: bool) -> None:
        held = self.early.pop(p.id, None)
        if held:
            self.c["events_early_dropped"] += len(held[0])
        if reason == "revoked":  # §12.2 item 9: nothing more of it is delivered
            self._forget(p.id, p.pub)
        else:  # §9.9: its last events may still be on their way
            self.draining[p.id] = [p.pub, p.name, time.monotonic() + self.o.drain]

    def _forget(self, sender: bytes, ep: str) -> None:
        self.last_seq.pop(sender, None)
        if ep in self.endpoints and not any(q.pub == ep for q in self.core.mesh.peers.values()) \
                and not any(d[0] == ep for s, d in self.draining.items() if s != sender):
            self.endpoints.discard(ep)
            self.up.discard(ep)
            try:
                self.sub.disconnect(ep)
            except zmq.ZMQError:
                pass

    # --- publishing (§9.5) -------------------------------------------------------------------

    def publish(self, topic: bytes, payload: bytes) -> None:
        seq = self.topic_seq.get(topic, 0) + 1
        if seq == 1 and len(self.topic_seq) >= _MAX_TOPICS:
            self.topic_seq.clear()
        self.topic_seq[topic] = seq
        sent_us = time.time_ns() // 1000
        try:
            self.pub.send(wire.encode_event(self.core.id, topic, seq, sent_us, payload), zmq.NOBLOCK)
        except zmq.ZMQError:
            pass  # a PUB drops at its high-water mark; subscribers count the gap
        self.c["events_out"] += 1
        if self._covered(topic):  # our own subscriptions get it too, with the same seq
            if self.core.delivery.backlog() >= self.o.receive_queue:
                self.c["local_dropped"] += 1
            else:
                self.c["events_local"] += 1
                # A copy of its own: the publisher may change its object meanwhile.
                obj = wire.unpack_payload(payload, len(payload))
                self._deliver(Event(topic.decode("utf-8", "surrogateescape"), obj,
                                    self.core.id, self.o.name, seq, sent_us))

    # --- receiving (§9.6) --------------------------------------------------------------------

    def on_sub(self) -> None:
        for _ in range(_BATCH):
            if self.core.delivery.backlog() >= self.o.receive_queue:  # §9.10: let queues fill
                self.core.reactor.unwatch(self.sub)
                self.paused = True
                self.c["receive_paused"] += 1
                return
            try:
                msg = self.sub.recv_multipart(zmq.NOBLOCK)
            except zmq.Again:
                return
            self._on_event(msg)

    def _on_event(self, msg: list[bytes]) -> None:
        if len(msg) != 1:
            self.c["events_invalid"] += 1
            return
        try:
            ev = wire.decode_event(msg[0])
        except ProtocolError as e:
            self.c[e.counter or "events_invalid"] += 1
            return
        p = self.core.mesh.peers.get(ev.sender)
        drain = self.draining.get(ev.sender) if p is None else None
        if p is None and drain is None:
            self.c["events_unknown_sender"] += 1
        elif len(ev.payload) > self.o.max_event_size:
            self.c["events_oversized"] += 1
        elif p is not None and p.state == CONNECTING:  # held until it joins
            held = self.early.setdefault(p.id, [[], 0])
            if len(held[0]) >= _EARLY_EVENTS or held[1] + len(msg[0]) > _EARLY_BYTES:
                self.c["events_early_dropped"] += 1
            else:
                held[0].append(msg[0])
                held[1] += len(msg[0])
        else:
            self._accept(ev, p, drain)

    def _accept(self, ev: wire.EventFrame, p: Optional[Peer], drain: Optional[list]) -> None:
        try:
            obj = wire.unpack_payload(ev.payload, self.o.max_event_size)
        except ProtocolError:
            self.c["events_invalid"] += 1
            return
        topics = self.last_seq.setdefault(ev.sender, {})
        last = topics.get(ev.topic)
        if last is not None and ev.seq > last + 1:  # §9.7
            self.c["events_gaps"] += ev.seq - last - 1
        if last is None and len(topics) >= _MAX_TOPICS:
            topics.clear()
        topics[ev.topic] = ev.seq
        self.c["events_in"] += 1
        if p is not None:
            self.core.mesh.alive(p)
            name = p.name
        else:  # a drain: not a sign of life, but the drain lasts while events come
            drain[2] = max(drain[2], time.monotonic() + self.o.drain)
            name = drain[1]
        self._deliver(Event(ev.topic.decode("utf-8", "surrogateescape"), obj, ev.sender, name,
                            ev.seq, ev.sent_us))

    def _deliver(self, event: Event) -> None:
        """§9.4 rule 5: only to subscriptions whose prefix matches."""
        topic = event.topic.encode("utf-8", "surrogateescape")
        for prefix, handlers in self.prefixes.items():
            if topic.startswith(prefix):
                for handler in list(handlers.values()):
                    self.core.delivery.submit(handler, event, droppable=True)

    def _on_monitor(self) -> None:
        while True:
            try:
                m = recv_monitor_message(self.monitor, zmq.NOBLOCK)
            except zmq.Again:
                return
            ep = m["endpoint"].decode() if isinstance(m["endpoint"], bytes) else m["endpoint"]
            if m["event"] == zmq.EVENT_HANDSHAKE_SUCCEEDED:
                self.up.add(ep)
                for p in list(self.core.mesh.peers.values()):
                    if p.pub == ep:  # §9.8 rule 1, again after every new handshake
                        self.send_subs(p)
            elif ep in self.up:
                self.up.discard(ep)
                self.c["sub_disconnects"] += 1

    # --- timers ------------------------------------------------------------------------------

    def next_deadline(self) -> float:
        until = min((d[2] for d in self.draining.values()), default=float("inf"))
        return min(until, time.monotonic() + 0.05) if self.paused else until

    def on_timer(self, now: float) -> None:
        for sender, d in list(self.draining.items()):
            if now >= d[2]:  # §9.9: the drain is over
                del self.draining[sender]
                self._forget(sender, d[0])
        if self.paused and self.core.delivery.backlog() < self.o.receive_queue // 2:
            self.paused = False
            self.core.reactor.watch(self.sub, self.on_sub)

    def close(self) -> None:
        for s in (self.sub, self.monitor):
            self.core.reactor.unwatch(s)
        self.sub.disable_monitor()
        self.monitor.close(0)
        self.sub.close(0)
        self.pub.close(1000)  # §8.5: time for events still queued to go out
