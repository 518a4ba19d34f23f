"""A small foreign ZMESH/1 client, written only from protocol/PROTOCOL.md.

It is a mesh member (not an observer) that joins through seeds (§7.5) rather than beacons:
it has no beacon socket, exactly like a node with a beacon interval of 0 (§5.2 item 5).

Everything runs on the caller's thread: ``poll()`` waits on the receiving sockets (ROUTER, SUB
and the SUB's monitor) and then runs the timers. A single thread is enough because the protocol
never needs a blocking exchange: every answer (HELLO, PONG, PEERS, STATS, REPLY) is sent through
our own DEALER and arrives later on our ROUTER (§4.2 rule 2).  RPC handlers run inline in
``poll()``; ``call()`` keeps polling until its REPLY arrives, so PINGs are still answered.

Events (§9) are in zmesh_events.py and RPC (§10) in zmesh_rpc.py, as mixins of Client; the
wire format is in zmesh_wire.py. Uses Debian's python3-zmq (pyzmq) and python3-msgpack.
"""

import os
import time

import zmq

from zmesh_events import Event, Events  # noqa: F401  Event re-exported
from zmesh_rpc import Rpc
from zmesh_wire import *  # noqa: F401,F403  constants, errors and codecs, re-exported
from zmesh_wire import _is_str, _is_uint, _unpack_body  # noqa: F401


# ---------------------------------------------------------------------------------------------
# Peers and events
# ---------------------------------------------------------------------------------------------

class Peer:
    """What we know of one dialled node (§8.3 states: connecting, joined, evasive)."""

    def __init__(self, nid, name, pub, router, dealer, now):
        self.id, self.name = nid, name
        self.pub, self.router = pub, router  # as dialled: the SUB/monitor key (§7.1, §8.4)
        self.adv_pub, self.adv_router = pub, router  # as advertised in its HELLO (§7.4)
        self.dealer = dealer
        self.state = "connecting"
        self.dialled_at = now
        self.last_seen = now
        self.observer = False
        self.services = []
        self.subscriptions = None      # their SUBS (§6.7), None until received
        self.disconnected_at = None    # §8.4: set while the SUB connection is down
        self.retries = 0               # CONNECT_RETRIED since the drop (§8.4 note)
        # §7.8: the link token it gave us in its HELLO, quoted back in our HELLOs and LEAVE.
        # This client gives none (it sends 0), so its own routing ids stay 16 bytes.
        self.their_token = 0
        self.routing = nid             # its link's routing id at our ROUTER (§6.1)

    def __repr__(self):
        return f"Peer({self.name}, {self.id.hex()}, {self.state})"




# ---------------------------------------------------------------------------------------------
# The client
# ---------------------------------------------------------------------------------------------

class Client(Events, Rpc):
    def __init__(self, mesh, name, seeds=(), host="127.0.0.1", heartbeat=0.25, evasive=1.0,
                 expired=3.0, handshake=3.0, grace=1.0, seed_interval=1.0, drain=1.0,
                 log=None):
        if not 1 <= len(mesh.encode()) <= 64 or not 1 <= len(name.encode()) <= 64:
            raise ValueError("mesh and name must be 1..64 bytes")
        self.mesh, self.name = mesh, name
        self.log = log or (lambda msg: None)
        # §1.2: 16 random bytes, never all zero.
        self.id = bytes(16)
        while not any(self.id):
            self.id = os.urandom(16)
        # Timers (Appendix A defaults).
        self.heartbeat, self.evasive, self.expired = heartbeat, evasive, expired
        self.handshake, self.grace, self.seed_interval, self.drain = (
            handshake, grace, seed_interval, drain)

        self.ctx = zmq.Context()
        # §4.1: PUB with SNDHWM set before bind; ROUTER with handover. Bound on loopback only,
        # so the advertised host (§4.3) is the bind host.
        self.pub = self.ctx.socket(zmq.PUB)
        self.pub.setsockopt(zmq.LINGER, 0)
        self.pub.setsockopt(zmq.SNDHWM, 10000)
        self.pub.bind(f"tcp://{host}:0")
        self.router = self.ctx.socket(zmq.ROUTER)
        self.router.setsockopt(zmq.LINGER, 0)
        self.router.setsockopt(zmq.ROUTER_HANDOVER, 1)
        self.router.setsockopt(zmq.ROUTER_MANDATORY, 1)  # a REPLY to a caller gone raises
        self.router.setsockopt(zmq.MAXMSGSIZE, max(MAX_CONTROL_SIZE, MAX_RPC_SIZE) + 4096)
        self.router.bind(f"tcp://{host}:0")
        self.pub_endpoint = self.pub.getsockopt_string(zmq.LAST_ENDPOINT)
        self.router_endpoint = self.router.getsockopt_string(zmq.LAST_ENDPOINT)
        # §4.1: one SUB, connected to every dialled peer's PUB, with a monitor (§8.4, §9.8).
        self.sub = self.ctx.socket(zmq.SUB)
        self.sub.setsockopt(zmq.LINGER, 0)
        self.sub.setsockopt(zmq.RCVHWM, 10000)
        self.sub_monitor = self.sub.get_monitor_socket(
            zmq.EVENT_CONNECTED | zmq.EVENT_DISCONNECTED | zmq.EVENT_CONNECT_RETRIED
            | zmq.EVENT_HANDSHAKE_SUCCEEDED)
        self.sub_endpoints = set()     # pub endpoints the SUB is connected to (§4.2 rule 5)
        self.sub_up = set()            # ... whose ZMTP handshake has completed (§9.8 rule 1);
                                       # kept per endpoint, since a drained connection is reused
        self.draining = {}             # sender id -> (pub endpoint, name, drain end) (§9.9)

        self.poller = zmq.Poller()
        for s in (self.router, self.sub, self.sub_monitor):
            self.poller.register(s, zmq.POLLIN)

        self.peers = {}                # id -> Peer
        self.prefixes = set()          # our SUB's subscriptions
        self.methods = {}              # name -> handler(args) -> result
        self.topic_seq = {}            # topic -> last seq published (§9.5)
        self.last_seq = {}             # (sender, topic) -> last seq accepted (§9.7)
        self.events = []               # received events, for the application
        self.peer_events = []          # ("joined"|"left", name, id, reason)
        self.pending = {}              # call id -> [peer id, reply or None]
        # From 2^32, as a C++ node's ids (a slot and a use count): the C++ echo then answers
        # in its REQUEST's frame, with a filler in the REPLY header (§10.4), read here too.
        self.next_call_id = 1 << 32
        self.counters = dict(events_out=0, events_in=0, events_gaps=0, events_invalid=0,
                             frames_invalid=0, frames_unknown_sender=0, frames_wrong_link=0,
                             peers_joined=0,
                             peers_left=0)

        self.probes = []               # seed probe DEALERs (§4.1, §7.5)
        for seed in seeds:
            d = self.ctx.socket(zmq.DEALER)  # no routing id: libzmq picks one
            d.setsockopt(zmq.IMMEDIATE, 1)
            d.setsockopt(zmq.SNDHWM, 4)
            d.setsockopt(zmq.LINGER, 0)
            d.connect(seed)
            self.probes.append(d)
        now = time.monotonic()
        self._next_heartbeat = now     # first heartbeat at start (§8.1)
        self._next_probe = now         # probes at start, then every seed interval (§7.5)
        self.closed = False

    # --- public API ---------------------------------------------------------------------

    def joined_peers(self, include_evasive=False):
        ok = ("joined", "evasive") if include_evasive else ("joined",)
        return [p for p in self.peers.values() if p.state in ok]

    def peer_by_name(self, name):
        for p in self.peers.values():
            if p.name == name and p.state in ("joined", "evasive"):
                return p
        return None

    def wait_until(self, predicate, timeout):
        """Poll until predicate() is true; returns its last value."""
        deadline = time.monotonic() + timeout
        while True:
            v = predicate()
            if v or time.monotonic() >= deadline:
                return v
            self.poll(min(0.05, max(0.0, deadline - time.monotonic())))

    def close(self, linger=0.5):
        """§8.5: LEAVE to every joined or evasive peer, with time for it to go out."""
        if self.closed:
            return
        self.closed = True
        for p in self.peers.values():
            if p.state in ("joined", "evasive"):
                self._send(p, LEAVE, [p.their_token])
        for p in self.peers.values():
            p.dealer.close(linger=int(linger * 1000))
        for d in self.probes:
            d.close(0)
        self.sub_monitor.close(0)
        self.sub.close(0)
        self.router.close(0)
        self.pub.close(linger=int(linger * 1000))
        self.ctx.term()

    # --- the loop ---------------------------------------------------------------------

    def poll(self, timeout=0.05):
        """Handle whatever arrives within timeout seconds, then run the timers."""
        ready = dict(self.poller.poll(int(timeout * 1000)))
        while self.sub_monitor in ready and self._handle_monitor():
            pass
        for _ in range(1000):  # bounded batches so timers still run under load
            if not self._handle_router():
                break
        for _ in range(1000):
            if not self._handle_sub():
                break
        for p in list(self.peers.values()):  # §10.1: REPLYs come back on the link
            if p.dealer in ready:
                while p.id in self.peers and self._handle_link(p):
                    pass
        self._timers()

    def _timers(self):
        now = time.monotonic()
        if now >= self._next_probe:
            self._next_probe = now + self.seed_interval
            for d in self.probes:  # §7.5 item 3: HELLO(want_reply) through each probe, for ever
                self._send_hello(d, want_reply=True)
        if now >= self._next_heartbeat:
            self._next_heartbeat = now + self.heartbeat
            for p in list(self.peers.values()):
                if p.state in ("joined", "evasive"):  # §8.1
                    self._send(p, PING, [time.monotonic_ns() // 1000])
                elif p.state == "connecting":         # §7.5 item 1
                    self._send_hello(p.dealer, want_reply=True)
        # Timeouts (§7.5 item 2, §8.3, §8.4), checked every poll (<= 50 ms here).
        for p in list(self.peers.values()):
            if p.state == "connecting":
                if now - p.dialled_at > self.handshake:
                    self.log(f"handshake timeout {p.name}")
                    self._remove(p, None)
                continue
            silent = now - p.last_seen
            if silent > self.expired:
                self._remove(p, "expired")
            elif p.disconnected_at is not None and now - p.disconnected_at > self.grace:
                self._remove(p, "disconnected")
            elif p.state == "joined" and silent > self.evasive:
                p.state = "evasive"
        for sender, (ep, _, until) in list(self.draining.items()):
            if now >= until:  # §9.9: drain over, disconnect and forget the sender
                del self.draining[sender]
                self._forget_sender(sender)
                if ep in self.sub_endpoints and not any(q.pub == ep for q in self.peers.values()):
                    self.sub_endpoints.discard(ep)
                    self.sub_up.discard(ep)
                    try:
                        self.sub.disconnect(ep)
                    except zmq.ZMQError:
                        pass

    # --- sending ----------------------------------------------------------------------

    def _send(self, peer, msg_type, fields):
        """§4.2: everything to a peer goes through our DEALER for it; never block."""
        try:
            peer.dealer.send(encode_control(msg_type, fields), flags=zmq.NOBLOCK)
        except zmq.Again:
            pass

    def _send_hello(self, dealer, want_reply, echo=0):
        flags = FLAG_WANT_REPLY if want_reply else 0
        services = sorted(self.methods, key=lambda s: s.encode())  # §6.3: sorted, unique
        frame = encode_control(HELLO, [self.mesh, self.id, self.name, self.pub_endpoint,
                                       self.router_endpoint, flags, services, 0, echo])
        try:
            dealer.send(frame, flags=zmq.NOBLOCK)
        except zmq.Again:
            pass

    # --- membership -------------------------------------------------------------------

    def _dial(self, nid, name, pub, router, want_reply, echo=0):
        """§7.1."""
        for other in list(self.peers.values()):  # rule 1: the old process at P is gone
            if other.id != nid and other.pub == pub:
                self._remove(other, "replaced" if other.state != "connecting" else None)
        dealer = self.ctx.socket(zmq.DEALER)
        dealer.setsockopt(zmq.ROUTING_ID, self.id)  # before connect (§4.1)
        dealer.setsockopt(zmq.LINGER, 0)
        dealer.setsockopt(zmq.SNDHWM, 100000)
        # §8.1: ZMTP heartbeats on the link. This client still judges liveness by silence
        # and PINGs every heartbeat, which the spec allows (its PONGs are our traffic).
        dealer.setsockopt(zmq.HEARTBEAT_IVL, int(self.heartbeat * 1000))
        dealer.setsockopt(zmq.HEARTBEAT_TTL, int(self.expired * 1000))
        dealer.setsockopt(zmq.MAXMSGSIZE, MAX_RPC_SIZE + 4096)  # only REPLYs come back
        dealer.connect(router)
        self.poller.register(dealer, zmq.POLLIN)
        if pub not in self.sub_endpoints:  # rule 2, and §4.2 rule 5: never two connections
            self.sub.connect(pub)
            self.sub_endpoints.add(pub)
        p = Peer(nid, name, pub, router, dealer, time.monotonic())
        self.peers[nid] = p
        self._send_hello(dealer, want_reply, echo)
        return p

    def _join(self, p):
        """connecting -> joined (§7.2): PEERS (§7.4) and maybe SUBS (§9.8)."""
        p.state = "joined"
        p.last_seen = time.monotonic()
        self.counters["peers_joined"] += 1
        self.peer_events.append(("joined", p.name, p.id, None))
        self.log(f"joined {p.name} {p.id.hex()}")
        others = [[q.id, q.name, q.adv_pub, q.adv_router] for q in self.peers.values()
                  if q is not p and not q.observer and q.state in ("joined", "evasive")]
        for i in range(0, len(others), 256):  # an empty list is not sent
            self._send(p, PEERS, [others[i:i + 256]])
        self._send_subs(p)

    def _remove(self, p, reason):
        """left (reason given) or dropped silently while connecting (reason None)."""
        del self.peers[p.id]
        self.poller.unregister(p.dealer)
        p.dealer.close(linger=0)
        # Pending calls on p fail at once (§8.3): call() sees p gone from self.peers.
        if reason is not None:
            self.counters["peers_left"] += 1
            self.peer_events.append(("left", p.name, p.id, reason))
            self.log(f"left {p.name} {p.id.hex()} {reason}")
        # §9.9: keep the SUB connection for a drain, accepting this sender's events.
        self.draining[p.id] = (p.pub, p.name, time.monotonic() + self.drain)

    def _forget_sender(self, sender):
        for key in [k for k in self.last_seq if k[0] == sender]:
            del self.last_seq[key]

    def _alive(self, p):
        """A sign of life (§8.2)."""
        p.last_seen = time.monotonic()
        if p.state == "evasive" and p.disconnected_at is None:
            p.state = "joined"  # recovered

    def _handle_link(self, p):
        """§10.1: what comes back on our DEALER for p must be one REPLY frame."""
        try:
            frames = p.dealer.recv_multipart(flags=zmq.NOBLOCK)
        except zmq.Again:
            return False
        if len(frames) != 1 or len(frames[0]) < 2 or frames[0][0] != VERSION or frames[0][1] != REPLY:
            self.counters["frames_invalid"] += 1
            return True
        if p.state in ("joined", "evasive"):
            self._alive(p)
            self._on_reply(p, frames[0])
        return True

    # --- receiving on the ROUTER ------------------------------------------------------

    def _handle_router(self):
        try:
            frames = self.router.recv_multipart(flags=zmq.NOBLOCK)
        except zmq.Again:
            return False
        rid, rest = frames[0], frames[1:]
        # §11.1: one frame of version 01 and type REQUEST/REPLY is RPC.
        if len(rest) == 1 and len(rest[0]) >= 2 and rest[0][0] == VERSION and rest[0][1] in (REQUEST, REPLY):
            p = self._known_sender(rid)
            if p is None:
                return True
            self._alive(p)  # before decoding the header (§8.2)
            if rest[0][1] == REQUEST:
                self._on_request(p, rest[0])
            else:
                self._on_reply(p, rest[0])
            return True
        if len(rest) != 1:
            self.counters["frames_invalid"] += 1
            return True
        try:
            msg_type, body = decode_control(rest[0])
            if msg_type == HELLO:
                self._on_hello(check_hello(body))
                return True
            p = self._known_sender(rid)  # §6.6: every other type needs a joined/evasive id
            if p is None:
                return True
            if msg_type == PING:
                if not _is_uint(body[0]) or body[0] >= 1 << 64:
                    raise ProtocolError("bad PING token")
                self._alive(p)
                self._send(p, PONG, [body[0]])
            elif msg_type == PONG:
                if not _is_uint(body[0]):
                    raise ProtocolError("bad PONG token")
                self._alive(p)
            elif msg_type == LEAVE:
                self._remove(p, "leave")
            elif msg_type == PEERS:
                entries = check_peers_list(body)
                self._alive(p)
                for nid, name, pub, router in entries:  # §7.4 item 2
                    if nid != self.id and nid not in self.peers:
                        self._dial(nid, name, pub, router, want_reply=True)
            elif msg_type == SUBS:
                lst = body[0]
                if type(lst) is not list or len(lst) > 1000 or not all(  # §6.7 item 3
                        type(x) is str and len(str_bytes(x)) <= 255 for x in lst):
                    raise ProtocolError("bad SUBS")
                self._alive(p)
                # §9.8 rule 3: make the PUB apply subscriptions already received first.
                self.pub.getsockopt(zmq.EVENTS)
                p.subscriptions = sorted(set(lst), key=str_bytes)
            elif msg_type == STATS_QUERY:
                self._alive(p)
                self._send(p, STATS, [dict(self.counters)])
            elif msg_type == STATS:
                if type(body[0]) is not dict:
                    raise ProtocolError("bad STATS")
                self._alive(p)
        except ProtocolError as e:
            self.counters["frames_invalid"] += 1
            self.log(f"dropped frame: {e}")
        return True

    def _known_sender(self, rid):
        # §6.1: the sender's id, then from revision 8 the 8-byte token it gave us.
        p = self.peers.get(rid[:16]) if len(rid) in (16, 24) else None
        if p is None or p.state not in ("joined", "evasive"):
            self.counters["frames_unknown_sender"] += 1
            return None
        if p.their_token and rid[16:] != p.their_token.to_bytes(8, "big"):
            self.counters["frames_wrong_link"] += 1  # §6.6: not its link
            return None
        p.routing = rid
        return p

    def _on_hello(self, h):
        """§7.3."""
        if h["id"] == self.id or h["mesh"] != self.mesh:
            return
        want = bool(h["flags"] & FLAG_WANT_REPLY)
        p = self.peers.get(h["id"])
        if p is None:
            # Rule 3: dial back without want_reply, answering its token; joined at once.
            p = self._dial(h["id"], h["name"], h["pub"], h["router"], want_reply=False,
                           echo=h["token"])
            self._update(p, h)
            self._join(p)
            return
        # §7.3 rule 4: a joined peer's HELLO must quote our token. This client gives none,
        # so it takes every HELLO; it answers each with the token of the HELLO answered.
        if want:  # rule 5: answer once, never with want_reply
            self._send_hello(p.dealer, want_reply=False, echo=h["token"])
        self._update(p, h)
        if p.state == "connecting":  # rule 5: connecting -> joined
            self._join(p)
        else:
            self._alive(p)

    def _update(self, p, h):
        # §7.2: every accepted HELLO replaces what we knew.
        p.name, p.observer, p.services = h["name"], bool(h["flags"] & FLAG_OBSERVER), h["services"]
        p.adv_pub, p.adv_router = h["pub"], h["router"]
        p.their_token = h["token"]
