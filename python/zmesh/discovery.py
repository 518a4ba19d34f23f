# SPDX-License-Identifier: MPL-2.0
"""discovery: how a node finds its first peers (PROTOCOL.md §5, §7.5): beacons sent and
heard on the chosen interfaces, and seed probes. What it finds, it hands to the mesh to
dial. Reactor thread only."""

from __future__ import annotations

import logging
import os
import random
import time
from typing import Optional

import zmq

from . import beacon as bc
from .core import Core
from .errors import SetupError
from .interfaces import BeaconSocket, Interface
from .security import decode_key, read_public_key
from .wire import ProtocolError

log = logging.getLogger("zmesh")

_FIRST_PROBE_WAIT = 0.05   # §7.5 rule 3: the first probes often meet a connection still opening
# §5.2 rule 4 (revision 14): asking beacons and their answers.
_FIRST_ASK_WAIT = 0.25
_ANSWERERS = 3.0
_ANSWER_WITHIN = 0.1
_ANSWER_SPACING = 0.5


def seed_key(seed: str, allow_dir: Optional[str]) -> tuple[Optional[str], str]:
    """(Z85 key or None, endpoint) of a seed: tcp://HOST:PORT, KEY@tcp://... or, with an
    allow directory, NAME@tcp://... for the key in NAME.pub there. Raises SetupError."""
    head, at, endpoint = seed.rpartition("@")   # the last '@': a Z85 key may hold one
    if not at:
        return None, seed
    if decode_key(head) is not None:
        return head, endpoint
    key = read_public_key(os.path.join(allow_dir, head + ".pub")) if allow_dir else None
    if key is None:
        raise SetupError(f"seed '{seed}': '{head}' is neither a Z85 key nor a NAME with "
                         f"NAME.pub in the allow directory")
    return key, endpoint


class Discovery:
    def __init__(self, core: Core, interfaces: list[Interface], beacon_host: str,
                 pub_port: int, router_port: int) -> None:
        self.core, self.o, self.c = core, core.options, core.counters
        self.beacon: Optional[BeaconSocket] = None
        self.replay = bc.ReplayGuard()
        now = time.monotonic()
        self._next_beacon = now if self.o.beacon_interval > 0 else float("inf")
        self._ask_wait = _FIRST_ASK_WAIT   # an observer's, after its next question
        self._last_answer = float("-inf")
        self._fields = (self.o.mesh, core.id, self.o.name, beacon_host, pub_port, router_port)
        if self.o.beacon_interval > 0:
            try:
                self.beacon = BeaconSocket(self.o.beacon_port, interfaces, bc.GROUP)
            except OSError as e:
                raise SetupError(f"beacon port {self.o.beacon_port}: {e}") from None
            core.reactor.watch(self.beacon.fileno(), self.on_beacon)
        self.seeds = [seed_key(seed, self.o.allow_dir) for seed in self.o.seeds]
        if core.secured and any(key is None for key, _ in self.seeds):
            raise SetupError("a secured node names each seed's key: KEY@tcp://... or "
                             "NAME@tcp://... (PROTOCOL.md §12.2 item 6)")
        self.probes: list[Optional[tuple[zmq.Socket, zmq.Socket]]] = [None] * len(self.seeds)
        self._reopen: set[int] = set()
        for i in range(len(self.seeds)):
            self._open_probe(i)
        self._probe_wait = _FIRST_PROBE_WAIT
        self._next_probe = now if self.probes else float("inf")

    # --- seed probes (§7.5) ---------------------------------------------------------------

    def _open_probe(self, i: int) -> None:
        key, endpoint = self.seeds[i]
        d = self.core.ctx.socket(zmq.DEALER)   # libzmq's own routing id: a probe is no link
        d.setsockopt(zmq.IMMEDIATE, 1)         # an unreachable seed's HELLO is dropped, not queued
        d.setsockopt(zmq.SNDHWM, 4)
        d.setsockopt(zmq.RCVHWM, 1)
        d.setsockopt(zmq.MAXMSGSIZE, 512)
        d.setsockopt(zmq.LINGER, 0)
        self.core.curve_client(d, key)
        # libzmq never reconnects a connection whose handshake failed (a seed that did not
        # allow our key yet): the monitor tells, and the probe is opened afresh.
        monitor = d.get_monitor_socket(zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL
                                       | zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL
                                       | zmq.EVENT_HANDSHAKE_FAILED_AUTH)
        d.connect(endpoint)
        self.probes[i] = (d, monitor)
        self.core.reactor.watch(monitor, lambda: self._on_probe_monitor(i, monitor))

    def _close_probe(self, i: int) -> None:
        d, monitor = self.probes[i]
        self.core.reactor.unwatch(monitor)
        d.disable_monitor()
        monitor.close(0)
        d.close(0)
        self.probes[i] = None

    def _on_probe_monitor(self, i: int, monitor: zmq.Socket) -> None:
        failed = False
        try:
            while True:
                monitor.recv_multipart(zmq.NOBLOCK)
                failed = True
        except zmq.Again:
            pass
        if failed and self.probes[i] is not None and self.probes[i][1] is monitor:
            log.info("seed %s refused our handshake: probing it afresh", self.seeds[i][1])
            self._reopen.add(i)   # at the next probe, not at once: it may refuse again

    # --- beacons (§5.2, §5.3) ------------------------------------------------------------

    def _send_beacon(self, asking: bool = False) -> None:
        sent_us = time.time_ns() // 1000
        d = bc.encode_beacon(*self._fields, secret=self.core.mesh_secret, sent_us=sent_us,
                             asking=asking)
        failures = self.beacon.send(d)
        self.c["beacons_sent"] += 1
        self.c["beacon_send_errors"] += failures

    def on_beacon(self) -> None:
        for _ in range(1000):
            got = self.beacon.receive(bc.MAX_BEACON_SIZE)
            if got is None:
                return
            self._on_datagram(*got)

    def _on_datagram(self, d: bytes, source_ip: str) -> None:
        secret = self.core.mesh_secret
        try:
            b = bc.decode_beacon(d, secret)
        except ProtocolError:
            self.c["beacons_invalid"] += 1
            return
        if b.id == self.core.id:
            return
        if b.mesh != self.o.mesh:
            self.c["beacons_foreign_mesh"] += 1
            return
        if secret is not None:
            if not b.authentic:
                self.c["beacons_unauthenticated"] += 1
                return
            if not self.replay.fresh(b.id, b.sent_us, time.time_ns() // 1000, time.monotonic()):
                self.c["beacons_replayed"] += 1
                return
        self.c["beacons_received"] += 1
        mesh = self.core.mesh
        p = mesh.peers.get(b.id)
        if p is not None and p.member:
            mesh.alive(p)
        if b.asking:   # §5.2 rule 4: an observer's question, answered, never dialled
            self.c["beacon_questions"] += 1
            self._answer_asking()
            return
        if p is not None:
            return
        host = b.host or source_ip
        if ":" in host and not host.startswith("["):
            host = f"[{host}]"
        mesh.dial(b.id, b.name, f"tcp://{host}:{b.pub_port}", f"tcp://{host}:{b.router_port}",
                  want_reply=True)

    def _answer_asking(self) -> None:
        # About three members answer, whatever the mesh's size, each after a random delay,
        # none more often than _ANSWER_SPACING.
        now = time.monotonic()
        if self.o.observer or now - self._last_answer < _ANSWER_SPACING:
            return
        if random.uniform(0, len(self.core.mesh.peers) + 1) >= _ANSWERERS:
            return
        self._last_answer = now
        self.c["beacon_answers"] += 1
        self._next_beacon = min(self._next_beacon, now + random.uniform(0, _ANSWER_WITHIN))

    # --- timers ------------------------------------------------------------------------

    def next_deadline(self) -> float:
        return min(self._next_beacon, self._next_probe)

    def on_timer(self, now: float) -> None:
        if now >= self._next_beacon and not self.o.observer:
            self._next_beacon = now + self.o.beacon_interval
            self._send_beacon()
        elif now >= self._next_beacon:
            # §5.2 rule 4: an observer asks for beacons until it knows a member: soon, then
            # less often, up to the beacon interval.
            asks = not any(p.member and not p.observer for p in self.core.mesh.peers.values())
            if asks:
                self._send_beacon(asking=True)
            self._next_beacon = now + min(self._ask_wait, self.o.beacon_interval)
            self._ask_wait = min(self._ask_wait * 2, self.o.beacon_interval) if asks else _FIRST_ASK_WAIT
        if now >= self._next_probe:
            # §7.5 rule 3: HELLO(want_reply) through each probe, sooner at first, for ever.
            self._next_probe = now + self._probe_wait
            self._probe_wait = min(self._probe_wait * 2, self.o.seed_interval)
            for i in self._reopen:
                self._close_probe(i)
                self._open_probe(i)
            self._reopen.clear()
            frame = self.core.mesh.hello_frame(want_reply=True, token=0, echo=0)
            for probe in self.probes:
                try:
                    probe[0].send(frame, zmq.NOBLOCK)
                except zmq.ZMQError:
                    pass

    def close(self) -> None:
        if self.beacon is not None:
            self.core.reactor.unwatch(self.beacon.fileno())
            self.beacon.close()
        for i in range(len(self.probes)):
            self._close_probe(i)
