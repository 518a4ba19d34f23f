# SPDX-License-Identifier: MPL-2.0
"""mesh: membership (PROTOCOL.md §6, §7, §8.5): the ROUTER every peer's link reaches and what
arrives there (§11.1), dialling, the HELLO handshake with link tokens, PEERS and LEAVE. The
peers' liveness is liveness.py's. Reactor thread only.

A link is one DEALER per peer (Appendix B), so its routing id and, on a secured mesh, its
CURVE server key are set before its one connect, and its monitor tells that peer's link
apart from every other's.
"""

from __future__ import annotations

import logging
import secrets
import time
from typing import Optional

import zmq

from . import wire
from .core import Core
from .peers import CONNECTING, EVASIVE, JOINED, Peer, parse_routing_id
from .security import key_matches_id
from .stream_wire import is_stream_type
from .wire import (FLAG_OBSERVER, FLAG_WANT_REPLY, HELLO, LEAVE, PEERS, PING, PONG, REPLY,
                   REQUEST, STATS, STATS_QUERY, SUBS, VERSION, ProtocolError)

log = logging.getLogger("zmesh")

_LINK_EVENTS = (zmq.EVENT_HANDSHAKE_SUCCEEDED | zmq.EVENT_DISCONNECTED
                | zmq.EVENT_CONNECT_RETRIED | zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL
                | zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL | zmq.EVENT_HANDSHAKE_FAILED_AUTH)
_BATCH = 1000   # messages read per socket per turn, so timers still run under load


class Mesh:
    def __init__(self, core: Core) -> None:
        self.core, self.o, self.c = core, core.options, core.counters
        self.peers: dict[bytes, Peer] = {}
        self.router = core.ctx.socket(zmq.ROUTER)
        r = self.router
        r.setsockopt(zmq.LINGER, 0)
        r.setsockopt(zmq.ROUTER_HANDOVER, 1)
        r.setsockopt(zmq.ROUTER_MANDATORY, 1)   # a REPLY to a caller gone fails, not queued
        r.setsockopt(zmq.SNDHWM, self.o.peer_queue)
        r.setsockopt(zmq.MAXMSGSIZE, max(wire.MAX_CONTROL_SIZE, wire.MAX_RPC_HEADER + self.o.max_rpc_size))
        core.curve_server(r)
        r.bind(f"tcp://{self.o.bind}:{self.o.router_port or '*'}")
        self.bound_port = int(r.getsockopt_string(zmq.LAST_ENDPOINT).rpartition(":")[2])
        core.reactor.watch(r, self.on_router)

    # --- sending ------------------------------------------------------------------------

    def send(self, p: Peer, msg_type: int, fields: list) -> None:
        """Everything to a peer goes through our link to it (§4.2), never blocking."""
        self.send_frame(p, wire.encode_control(msg_type, fields), used=msg_type not in (PING, PONG))

    def send_frame(self, p: Peer, frame: bytes, used: bool = True) -> bool:
        """One frame on our link to the peer, never blocking; False (counted) when dropped.
        used: the frame is no PING or PONG, so the link's round trip is worth measuring."""
        try:
            p.dealer.send(frame, zmq.NOBLOCK)
        except zmq.ZMQError:
            self.c["sends_dropped"] += 1
            return False
        if used:
            p.sent_since_ping = True
        return True

    def hello_frame(self, want_reply: bool, token: int, echo: int) -> bytes:
        flags = (FLAG_WANT_REPLY if want_reply else 0) | (FLAG_OBSERVER if self.o.observer else 0)
        return wire.encode_hello(self.o.mesh, self.core.id, self.o.name, self.core.pub_endpoint,
                                 self.core.router_endpoint, flags, self.core.rpc.method_names(),
                                 token, echo)

    def send_hello(self, p: Peer, want_reply: bool, echo: int) -> None:
        try:
            p.dealer.send(self.hello_frame(want_reply, p.my_token, echo), zmq.NOBLOCK)
        except zmq.ZMQError:
            self.c["sends_dropped"] += 1

    def services_changed(self) -> None:
        """§7.7: the new list to every dialled peer at once."""
        for p in self.peers.values():
            if p.member:
                self.send_hello(p, want_reply=False, echo=p.their_token)
            else:
                self.send_hello(p, want_reply=True, echo=p.their_token)

    # --- dialling and removing ----------------------------------------------------------

    def dial(self, nid: bytes, name: str, pub: str, router: str, want_reply: bool,
             echo: int = 0) -> Optional[Peer]:
        """§7.1. Returns the new peer, or None when the dial is abandoned."""
        for h in list(self.peers.values()):
            if h.id != nid and (h.pub == pub or h.router == router):
                if h.state == CONNECTING or (h.link_up and h.disconnected_at is None):
                    self.c["endpoint_conflicts"] += 1
                    return None
                self.remove(h, "replaced")   # its link failed: a restarted process took its ports
        if len(self.peers) >= self.o.max_peers:
            self.c["peers_refused"] += 1
            return None
        key = None
        if self.core.secured:
            key = self.core.allowlist.key_for(nid)
            if key is None:
                self.c["peers_not_allowed"] += 1
                log.info("not dialling %s %s: no allowed key for its id", name, nid.hex())
                return None
        token = 0
        while token == 0:
            token = secrets.randbits(64)
        d = self.core.link_ctx.socket(zmq.DEALER)
        d.setsockopt(zmq.ROUTING_ID, self.core.id + token.to_bytes(8, "big"))
        d.setsockopt(zmq.LINGER, 0)
        d.setsockopt(zmq.SNDHWM, self.o.peer_queue)
        d.setsockopt(zmq.RCVHWM, 0)
        d.setsockopt(zmq.MAXMSGSIZE, wire.MAX_RPC_HEADER + self.o.max_rpc_size)
        d.setsockopt(zmq.HEARTBEAT_IVL, int(self.o.heartbeat * 1000))
        d.setsockopt(zmq.HEARTBEAT_TIMEOUT, int(self.o.evasive * 1000))
        d.setsockopt(zmq.HEARTBEAT_TTL, int(self.o.expired * 1000))
        self.core.curve_client(d, key)
        monitor = d.get_monitor_socket(_LINK_EVENTS)
        try:
            d.connect(router)
        except zmq.ZMQError as e:
            log.info("cannot dial %s at %s: %s", name, router, e)
            d.disable_monitor()
            monitor.close(0)
            d.close(0)
            return None
        p = Peer(nid, name, pub, router, token, time.monotonic())
        p.dealer, p.monitor, p.key = d, monitor, key
        self.peers[nid] = p
        self.core.reactor.watch(d, lambda: self._on_link(p))
        self.core.reactor.watch(monitor, lambda: self.core.liveness.on_link_monitor(p))
        self.core.pubsub.on_dial(p)
        self.send_hello(p, want_reply, echo)
        self.core.changed()
        return p

    def remove(self, p: Peer, reason: Optional[str]) -> None:
        """The peer is left (reason given) or, while connecting, dropped silently; its link
        is closed at once, its events drained (§9.9) and its pending calls failed (§8.3)."""
        if self.peers.get(p.id) is not p:
            return
        del self.peers[p.id]
        was_member = p.member
        self._close_link(p, linger=0)
        self.core.rpc.on_peer_removed(p)
        self.core.streams.on_removed(p)
        self.core.pubsub.on_removed(p, reason if was_member else None, was_member)
        if was_member:
            self.c["peers_left"] += 1
            self.core.peer_event("left", p, reason)
        else:
            self.core.changed()

    def _close_link(self, p: Peer, linger: int) -> None:
        self.core.reactor.unwatch(p.dealer)
        self.core.reactor.unwatch(p.monitor)
        try:
            p.dealer.disable_monitor()
        except zmq.ZMQError:
            pass
        p.monitor.close(0)
        p.dealer.close(linger)

    def leave_all(self) -> None:
        """§8.5: LEAVE to every peer, quoting its token; returns once they have gone out,
        or after half a second for a peer that does not take them."""
        for p in list(self.peers.values()):
            self.send(p, LEAVE, [p.their_token])
            self._close_link(p, linger=500)
        self.peers.clear()
        self.core.link_ctx.term()

    def close(self) -> None:
        self.core.reactor.unwatch(self.router)
        self.router.close(0)

    # --- membership ---------------------------------------------------------------------

    def join(self, p: Peer) -> None:
        """connecting -> joined (§7.2): PEERS to it (§7.4), then its SUBS and early events."""
        p.state = JOINED
        p.last_seen = time.monotonic()
        self.c["peers_joined"] += 1
        self.core.peer_event("joined", p)
        if not self.o.observer:
            others = [[q.id, q.name, q.adv_pub, q.adv_router] for q in self.peers.values()
                      if q is not p and q.member and not q.observer]
            for i in range(0, len(others), wire.MAX_PEERS_PER_LIST):
                self.send(p, PEERS, [others[i:i + wire.MAX_PEERS_PER_LIST]])
        self.core.pubsub.on_joined(p)
        self.core.streams.on_joined(p)

    def alive(self, p: Peer) -> None:
        """A sign of life (§8.2)."""
        p.last_seen = time.monotonic()
        if p.state == EVASIVE and p.disconnected_at is None:
            p.state = JOINED
            self.core.peer_event("recovered", p)

    def _update(self, p: Peer, h: wire.Hello) -> None:
        """§7.2: a joining or authentic HELLO replaces what was known."""
        p.name, p.observer, p.services = h.name, bool(h.flags & FLAG_OBSERVER), h.services
        p.adv_pub, p.adv_router, p.their_token = h.pub, h.router, h.token
        self.core.changed()

    def _on_hello(self, h: wire.Hello) -> None:
        """§7.3."""
        if h.id == self.core.id:
            return
        if h.mesh != self.o.mesh:
            self.c["hellos_foreign_mesh"] += 1
            return
        want = bool(h.flags & FLAG_WANT_REPLY)
        p = self.peers.get(h.id)
        if p is None:
            if h.echo:  # rule 3: it holds the token we sent to another peer's ROUTER
                for other in list(self.peers.values()):
                    if other.my_token == h.echo:
                        self.remove(other, "replaced")
                        break
            p = self.dial(h.id, h.name, h.pub, h.router, want_reply=False, echo=h.token)
            if p is not None:
                self._update(p, h)
                self.join(p)
            return
        if p.state == CONNECTING:  # rule 4: its first HELLO joins it, whatever its echo
            if want:
                self.send_hello(p, want_reply=False, echo=h.token)
            self._update(p, h)
            self.join(p)
            return
        if h.echo != p.my_token:  # rule 4: a member's HELLO must quote our token
            self.c["hellos_unverified"] += 1
            now = time.monotonic()
            if now - p.last_question >= self.o.heartbeat:
                p.last_question = now
                self.send_hello(p, want_reply=True, echo=h.token)
            return
        if want:
            self.send_hello(p, want_reply=False, echo=h.token)
        self._update(p, h)
        self.alive(p)

    # --- reading the ROUTER (§11.1) -------------------------------------------------------

    def on_router(self) -> None:
        secured = self.core.secured
        for _ in range(_BATCH):
            try:
                msg = self.router.recv_multipart(zmq.NOBLOCK, copy=not secured)
            except zmq.Again:
                return
            user = None
            if secured:
                try:
                    user = msg[-1].get("User-Id")
                except zmq.ZMQError:
                    user = None
                msg = [f.bytes for f in msg]
            self._on_router_message(msg, user)

    def _key_ok(self, nid: bytes, user: Optional[str]) -> bool:
        """§12.2 item 5: on a secured mesh the claimed id must be its connection's key's."""
        if not self.core.secured or key_matches_id(user, nid):
            return True
        self.c["frames_key_mismatch"] += 1
        return False

    def sender(self, rid: bytes, parsed) -> Optional[Peer]:
        """§6.6: the joined or evasive peer a message came from, on its own link."""
        p = self.peers.get(parsed[0]) if parsed else None
        if p is None or not p.member:
            self.c["frames_unknown_sender"] += 1
            return None
        if p.their_token and parsed[2] != p.their_token.to_bytes(8, "big"):
            self.c["frames_wrong_link"] += 1
            return None
        return p

    def _on_router_message(self, msg: list[bytes], user: Optional[str]) -> None:
        if len(msg) != 2:
            self.c["frames_invalid"] += 1
            return
        rid, f = msg
        parsed = parse_routing_id(rid)
        is_rpc = len(f) >= 2 and f[0] == VERSION and f[1] in (REQUEST, REPLY)
        if parsed and parsed[1] and not (is_rpc and f[1] == REQUEST):
            self.c["frames_invalid"] += 1   # a call link carries REQUESTs only (§4.2 rule 6)
            return
        if is_rpc:
            if parsed and not self._key_ok(parsed[0], user):
                return
            p = self.sender(rid, parsed)
            if p is not None:
                self.alive(p)  # before the header is decoded (§8.2)
                if f[1] == REQUEST:
                    self.core.rpc.on_request(p, rid, f)
                else:
                    self.core.rpc.on_reply(p, f)
            return
        if len(f) >= 2 and f[0] == VERSION and is_stream_type(f[1]):  # §14.1: like control frames
            if parsed and not self._key_ok(parsed[0], user):
                return
            p = self.sender(rid, parsed)
            if p is not None:
                self.alive(p)
                self.core.streams.on_frame(p, f)
            return
        try:
            msg_type, body = wire.decode_control(f)
            if msg_type == HELLO:
                h = wire.check_hello(body)
                if self._key_ok(h.id, user):
                    self._on_hello(h)
            elif msg_type == LEAVE:
                self._on_leave(parsed, wire.check_token(body), user)
            elif parsed is None or self._key_ok(parsed[0], user):
                p = self.sender(rid, parsed)
                if p is not None:
                    self._on_control(p, msg_type, body)
        except ProtocolError as e:
            self.c[e.counter or "frames_invalid"] += 1
            log.debug("dropped frame: %s", e)

    def _on_leave(self, parsed, token: int, user: Optional[str]) -> None:
        """§8.5, checked by the token in its body (§6.6)."""
        p = self.peers.get(parsed[0]) if parsed else None
        if p is None:
            self.c["frames_unknown_sender"] += 1
        elif not self._key_ok(p.id, user):
            pass
        elif token != p.my_token:
            self.c["leaves_unverified"] += 1
        else:
            self.remove(p, "leave")

    def _on_control(self, p: Peer, msg_type: int, body: list) -> None:
        if msg_type == PING:
            token = wire.check_token(body)
            self.alive(p)
            self.send(p, PONG, [token])
        elif msg_type == PONG:
            token = wire.check_token(body)
            self.alive(p)
            now_us = time.monotonic_ns() // 1000
            if token <= now_us:
                p.rtt_us = now_us - token
        elif msg_type == PEERS:
            entries = wire.check_peers(body)
            self.alive(p)
            for nid, name, pub, router in entries:  # §7.4 rule 2
                if nid != self.core.id and nid not in self.peers:
                    self.dial(nid, name, pub, router, want_reply=True)
        elif msg_type == SUBS:
            prefixes = wire.check_subs(body)
            self.alive(p)
            self.core.pubsub.on_subs(p, prefixes)
        elif msg_type == STATS_QUERY:
            self.alive(p)
            self.send(p, STATS, [dict(self.c)])
        elif msg_type == STATS:
            wire.check_stats(body)
            self.alive(p)

    # --- links: replies and liveness (§8.4) -----------------------------------------------

    def _on_link(self, p: Peer) -> None:
        """§4.2 rule 2: what comes back on a link must be one REPLY frame."""
        for _ in range(_BATCH):
            try:
                msg = p.dealer.recv_multipart(zmq.NOBLOCK)
            except zmq.Again:
                return
            f = msg[0]
            if len(msg) != 1 or len(f) < 2 or f[0] != VERSION or f[1] != REPLY:
                self.c["frames_invalid"] += 1
            elif p.member:
                self.alive(p)
                self.core.rpc.on_reply(p, f)
            if self.peers.get(p.id) is not p:
                return
