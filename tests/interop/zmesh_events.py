"""Events for the foreign client (zmesh_client.py): subscribing, publishing and receiving
(PROTOCOL.md §9). A mixin of Client, which owns the sockets and the state it uses."""

import time

import msgpack
import zmq
from zmq.utils.monitor import recv_monitor_message

from zmesh_wire import (MAX_EVENT_SIZE, SUBS, ProtocolError, check_payload, decode_event,
                        encode_event)


class Event:
    def __init__(self, topic, sender, sender_name, seq, sent_us, payload):
        self.topic, self.sender, self.sender_name = topic, sender, sender_name
        self.seq, self.sent_us, self.payload = seq, sent_us, payload

    def __repr__(self):
        return f"Event({self.topic!r} from {self.sender_name} #{self.seq}: {self.payload!r})"


class Events:
    """Client's §9 half, and the SUB connection's part in liveness (§8.4): self.sub,
    self.sub_monitor, self.pub, self.prefixes, self.topic_seq, self.last_seq, self.events,
    self.peers and self.draining are Client's, as are _send(), _alive() and _remove()."""

    def subscribe(self, prefix):
        """§9.8 rule 2: change the SUB first, then tell every peer with SUBS."""
        prefix = prefix.encode() if isinstance(prefix, str) else prefix
        if len(prefix) > 255 or b"\x00" in prefix:
            raise ValueError("a prefix is 0..255 bytes without NUL (§9.4)")
        prefix.decode()  # SUBS carries it as a msgpack str (§6.7): UTF-8 only here
        if prefix not in self.prefixes:
            self.prefixes.add(prefix)
            self.sub.setsockopt(zmq.SUBSCRIBE, prefix)
            self._send_subs_to_all()

    def unsubscribe(self, prefix):
        prefix = prefix.encode() if isinstance(prefix, str) else prefix
        if prefix in self.prefixes:
            self.prefixes.discard(prefix)
            self.sub.setsockopt(zmq.UNSUBSCRIBE, prefix)
            self._send_subs_to_all()

    def publish(self, topic, obj):
        """Publish one event; seq counts per topic from 1 (§9.5). Returns the seq."""
        topic = topic.encode() if isinstance(topic, str) else topic
        if not 1 <= len(topic) <= 255 or b"\x00" in topic:
            raise ValueError("a topic is 1..255 bytes without NUL (§9.4)")
        payload = msgpack.packb(obj, use_bin_type=True)
        if len(payload) > MAX_EVENT_SIZE:
            raise ValueError("payload over max_event_size")
        seq = self.topic_seq.get(topic, 0) + 1
        self.topic_seq[topic] = seq
        sent_us = time.time_ns() // 1000
        try:  # §4.2 rule 4: non-blocking; a PUB drops at its HWM anyway
            self.pub.send_multipart(encode_event(self.id, topic, seq, sent_us, payload),
                                    flags=zmq.NOBLOCK)
        except zmq.Again:
            pass
        self.counters["events_out"] += 1
        return seq

    def _handle_sub(self):
        try:
            frames = self.sub.recv_multipart(flags=zmq.NOBLOCK)
        except zmq.Again:
            return False
        try:
            topic, sender, seq, sent_us, payload = decode_event(frames)
            p = self.peers.get(sender)
            if p is None and sender not in self.draining:
                return True  # events_unknown_sender
            obj = check_payload(payload, MAX_EVENT_SIZE)
        except ProtocolError as e:
            self.counters["events_invalid"] += 1
            self.log(f"dropped event: {e}")
            return True
        # §9.7 gaps, per (sender, topic).
        last = self.last_seq.get((sender, topic))
        if last is not None and seq > last + 1:
            self.counters["events_gaps"] += seq - last - 1
        self.last_seq[(sender, topic)] = seq
        self.counters["events_in"] += 1
        if p is not None:
            self._alive(p)  # §8.2; during a drain it is not a sign of life
            name = p.name
        else:
            ep, name, until = self.draining[sender]
            self.draining[sender] = (ep, name, max(until, time.monotonic() + self.drain))
        # §9.4 rule 5: only to matching local subscriptions.
        if any(topic.startswith(x) for x in self.prefixes):
            self.events.append(Event(topic.decode("utf-8", "replace"), sender, name, seq,
                                     sent_us, obj))
        return True

    def _send_subs(self, p):
        # §9.8 rule 1: only once the peer is joined/evasive AND our SUB is handshaken to it.
        if p.state in ("joined", "evasive") and p.pub in self.sub_up:
            self._send(p, SUBS, [[x.decode() for x in sorted(self.prefixes)]])

    def _send_subs_to_all(self):
        for p in self.peers.values():
            self._send_subs(p)

    def _handle_monitor(self):
        try:
            msg = recv_monitor_message(self.sub_monitor, flags=zmq.NOBLOCK)
        except zmq.Again:
            return False
        ep = msg["endpoint"].decode() if isinstance(msg["endpoint"], bytes) else msg["endpoint"]
        ev = msg["event"]
        # The monitor names the endpoint string we passed to connect (Appendix B).
        if ev == zmq.EVENT_HANDSHAKE_SUCCEEDED:
            self.sub_up.add(ep)
        elif ev == zmq.EVENT_DISCONNECTED:
            self.sub_up.discard(ep)
        for p in list(self.peers.values()):
            if p.pub != ep:
                continue
            if ev == zmq.EVENT_HANDSHAKE_SUCCEEDED:
                if p.disconnected_at is not None:  # §8.4: re-established -> recovered
                    p.disconnected_at, p.retries = None, 0
                    if p.state == "evasive":
                        p.state = "joined"
                self._send_subs(p)  # §9.8 rule 1, again after every new handshake
            elif p.state == "connecting":
                pass  # §8.4 item 4: ignored while connecting
            elif ev == zmq.EVENT_DISCONNECTED:
                # §8.4 item 1: suspect at once; only a new handshake clears it.
                p.disconnected_at, p.retries = time.monotonic(), 0
                p.state = "evasive"
            elif ev == zmq.EVENT_CONNECT_RETRIED and p.disconnected_at is not None:
                # §8.4 note: the first RETRIED after the drop only announces the retry; the
                # second means an attempt failed, so the peer is left (item 2).
                p.retries += 1
                if p.retries >= 2:
                    self._remove(p, "disconnected")
        return True
