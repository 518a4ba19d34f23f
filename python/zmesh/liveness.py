# SPDX-License-Identifier: MPL-2.0
"""liveness: whether each peer is alive (PROTOCOL.md §7.5, §8): the link's socket monitor
(a drop makes a member evasive at once, a refused reconnect makes it left), silence
timeouts, handshake retries and timeouts, PINGs that measure a busy link's round trip, and
on a secured mesh the allowlist re-read. Reactor thread only."""

from __future__ import annotations

import time

import zmq
from zmq.utils.monitor import recv_monitor_message

from .core import Core
from .peers import CONNECTING, EVASIVE, JOINED, Peer
from .wire import PING


class Liveness:
    def __init__(self, core: Core) -> None:
        self.core, self.o, self.c = core, core.options, core.counters
        self.mesh = core.mesh
        now = time.monotonic()
        self._tick = min(self.o.heartbeat, 0.1)   # timeouts are checked at least this often
        self._next_tick = self._next_heartbeat = self._next_allow_check = now

    def on_link_monitor(self, p: Peer) -> None:
        while self.mesh.peers.get(p.id) is p:
            try:
                ev = recv_monitor_message(p.monitor, zmq.NOBLOCK)["event"]
            except zmq.Again:
                return
            now = time.monotonic()
            if ev == zmq.EVENT_HANDSHAKE_SUCCEEDED:
                came_back, p.link_up, p.was_up = p.was_up, True, True
                if p.member:
                    p.last_seen = now
                    if p.disconnected_at is not None:
                        p.disconnected_at, p.retries = None, 0
                        if p.state == EVASIVE:
                            p.state = JOINED
                            self.core.peer_event("recovered", p)
                    if came_back:  # §7.8 rule 4: whoever listens there now answers as itself
                        self.mesh.send_hello(p, want_reply=True, echo=p.their_token)
                    self.core.streams.on_link_up(p)   # §14.8 rule 1: a new session
            elif ev == zmq.EVENT_DISCONNECTED:
                p.link_up = False
                if p.member:  # rule 1: suspect at once; only a new handshake clears it
                    self.c["link_disconnects"] += 1
                    p.disconnected_at, p.retries = now, 0
                    self.core.streams.on_link_lost(p)   # §14.8 rule 2
                    if p.state == JOINED:
                        p.state = EVASIVE
                        self.core.peer_event("evasive", p)
            elif ev == zmq.EVENT_CONNECT_RETRIED:
                # The first only announces the retry; the second means an attempt failed.
                if p.member and p.disconnected_at is not None:
                    p.retries += 1
                    if p.retries >= 2:
                        self.mesh.remove(p, "disconnected")
            else:
                self.c["handshakes_failed"] += 1
                self.c["handshakes_failed_auth" if ev == zmq.EVENT_HANDSHAKE_FAILED_AUTH
                       else "handshakes_failed_protocol" if ev == zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL
                       else "handshakes_failed_closed"] += 1

    # --- timers ---------------------------------------------------------------------------

    def next_deadline(self) -> float:
        return self._next_tick

    def on_timer(self, now: float) -> None:
        self._next_tick = now + self._tick
        beat = now >= self._next_heartbeat
        if beat:
            self._next_heartbeat = now + self.o.heartbeat
        if self.core.secured and now >= self._next_allow_check:
            self._next_allow_check = now + 0.25
            self._check_allowlist()
        grace = max(self.o.disconnect_grace, self.o.expired - self.o.evasive)
        for p in list(self.mesh.peers.values()):
            if p.state == CONNECTING:
                if now - p.dialled_at > self.o.handshake:  # §7.5 rule 2
                    self.c["handshake_timeouts"] += 1
                    self.mesh.remove(p, None)
                elif beat:  # §7.5 rule 1
                    self.mesh.send_hello(p, want_reply=True, echo=p.their_token)
                continue
            if p.link_up and p.disconnected_at is None:
                p.last_seen = now  # §8.2: a heartbeated link that has not dropped is alive
            if p.disconnected_at is not None and now - p.disconnected_at > grace:
                self.mesh.remove(p, "disconnected")
            elif now - p.last_seen > self.o.expired:
                self.mesh.remove(p, "expired")
            elif p.state == JOINED and now - p.last_seen > self.o.evasive:
                p.state = EVASIVE
                self.core.peer_event("evasive", p)
            elif beat and p.link_up and (p.rtt_us is None or p.sent_since_ping):
                p.sent_since_ping = False
                self.c["pings_sent"] += 1
                self.mesh.send(p, PING, [time.monotonic_ns() // 1000])

    def _check_allowlist(self) -> None:
        """§12.2 item 9: a member whose key left the allow directory is left, revoked."""
        self.core.allowlist.reload()
        gone = self.core.allowlist.take_revoked()
        for p in list(self.mesh.peers.values()):
            if p.key in gone:
                self.c["connections_cut"] += 1
                self.mesh.remove(p, "revoked")
