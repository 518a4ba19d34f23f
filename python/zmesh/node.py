# SPDX-License-Identifier: MPL-2.0
"""node: the public API. One Node is one member of a mesh.

    with zmesh.Node(name="orders", mesh="shop") as node:      # start() ... stop()
        node.subscribe("inventory.", lambda e: print(e.topic, e.payload))
        node.serve("orders.count", lambda args: 42)
        node.wait_for_provider("inventory.reserve", timeout=5)
        node.call("inventory.reserve", {"order_id": 1, "item": "apple", "qty": 2})
        node.publish("order.created", {"order_id": 1})
        node.consume("orders", "billing", lambda m: (bill(m.payload), m.ack()), start="first")

Threads: start() runs a reactor thread that owns every socket of the node, and one handler
thread that runs all application code of this node (event handlers, served methods, stream
consumers' handlers and peer event handlers), one at a time, in arrival order. A slow handler delays the next
handler, never heartbeats. Every method may be called from any thread, handlers included;
stop() from any thread but the node's own.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import datetime
import itertools
import logging
import os
import threading
import time
from typing import Any, Callable, Optional

import zmq

from . import stream_wire, wire
from .core import COUNTERS, Core
from .discovery import Discovery
from .errors import ErrorKind, RpcError, SetupError
from .interfaces import choose_interfaces, list_interfaces
from .liveness import Liveness
from .mesh import Mesh
from .options import Options
from .peers import JOINED, PeerEvent, PeerInfo
from .pubsub import Event, PubSub
from .reactor import Delivery, Reactor
from .rpc import PeerRef, Rpc
from .streams import MAX_CONSUMERS, StreamMessage, Streams
from .security import (Allowlist, ZapHandler, new_id_for_key, read_mesh_secret,
                       read_secret_key)

log = logging.getLogger("zmesh")
_WILDCARDS = ("*", "0.0.0.0")


class Node:
    """A member of a mesh. Keyword arguments are those of Options (durations in seconds);
    a bad value raises ValueError, an unreadable or unsafe key file SetupError.

    ``node.id`` is its 16-byte node id (random, or from its public key on a secured mesh),
    fixed for the Node's life; ``node.options`` the validated Options."""

    id: bytes
    options: Options

    def __init__(self, name: Optional[str] = None, mesh: str = "default", **options: Any) -> None:
        if name is not None:
            options["name"] = name
        self.options = Options(mesh=mesh, **options)
        self.options.validate()
        o = self.options
        self._keys = None
        self._allowlist = None
        self._mesh_secret = None
        if o.secured:
            try:
                self._keys = read_secret_key(o.secret_key)
                self._allowlist = Allowlist(list(o.allowed_keys), o.allow_dir)
                self._mesh_secret = read_mesh_secret(o.mesh_secret)
            except (OSError, ValueError) as e:
                raise SetupError(str(e)) from None
            self.id = new_id_for_key(self._keys[1])
        else:
            self.id = bytes(16)
            while not any(self.id):
                self.id = os.urandom(16)
        self._counters = dict.fromkeys(COUNTERS, 0)
        self._subscriptions: dict[int, tuple[bytes, Callable[[Event], None]]] = {}
        self._methods: dict[str, Callable[[Any], Any]] = {}
        self._peer_handlers: list[Callable[[PeerEvent], None]] = []
        self._consumers: dict[int, tuple[stream_wire.Consume, Callable[[StreamMessage], None]]] = {}
        self._ids = itertools.count(1)
        self._core: Optional[Core] = None
        self._lock = threading.Lock()   # start() and stop() against each other

    # --- life ------------------------------------------------------------------------------

    @property
    def name(self) -> str:
        """This node's name (Options.name): what peers see and call(peer=...) matches. Not
        unique in a mesh: the id is."""
        return self.options.name

    @property
    def id_hex(self) -> str:
        """This node's id as 32 hex digits, as C++ nodes print it and call(peer=...) takes it."""
        return self.id.hex()

    @property
    def running(self) -> bool:
        """Whether the node is started: between start() and stop()."""
        return self._core is not None

    @property
    def pub_endpoint(self) -> str:
        """The endpoint peers dial for this node's events, once started."""
        return self._core.pub_endpoint if self._core else ""

    @property
    def router_endpoint(self) -> str:
        """The endpoint peers dial for control and calls, once started (seed others here)."""
        return self._core.router_endpoint if self._core else ""

    def on_peer_event(self, handler: Callable[[PeerEvent], None]) -> None:
        """Calls handler on the handler thread for every peer that joins, goes evasive,
        recovers or leaves. Set it before start()."""
        self._peer_handlers.append(handler)

    def start(self) -> "Node":
        """Binds the sockets, opens the beacon and starts the threads. Raises SetupError with
        a one-line message when a socket cannot be bound or no interface fits."""
        with self._lock:
            if self._core is not None:
                return self
            ctx = zmq.Context()
            reactor, delivery = Reactor(), Delivery(self._counters)
            core = Core(self.options, self.id, ctx, reactor, delivery, self._counters,
                        self._keys, self._allowlist, self._mesh_secret)
            core.peer_handlers = self._peer_handlers
            try:
                self._build(core)
            except BaseException as e:
                for part in (core.discovery, core.pubsub, core.mesh, core.zap):
                    if part is not None:
                        part.close()
                core.link_ctx.destroy(0)
                ctx.destroy(0)
                reactor.close()
                if isinstance(e, (zmq.ZMQError, OSError, ValueError)):
                    raise SetupError(f"cannot start node {self.name}: {e}") from None
                raise
            delivery.start()
            thread = threading.Thread(target=reactor.run, name=f"zmesh-{self.name}", daemon=True)
            reactor.thread = thread
            self._core = core
            thread.start()
            log.info("started %s %s (router %s, pub %s)", self.name, self.id.hex(),
                     core.router_endpoint, core.pub_endpoint)
            return self

    def _build(self, core: Core) -> None:
        o = self.options
        interfaces = choose_interfaces(list_interfaces(), o.chosen_interface())
        if core.secured:  # before any CURVE server binds
            core.zap = ZapHandler(core.ctx, core.allowlist, core.counters)
            core.reactor.watch(core.zap.sock, core.zap.on_readable)
        core.mesh = Mesh(core)
        core.liveness = Liveness(core)
        core.pubsub = PubSub(core)
        core.rpc = Rpc(core)
        core.streams = Streams(core)
        # §4.3: the host peers dial, and the one the beacon names (empty: its source address).
        bind_host = None if o.bind in _WILDCARDS else o.bind
        lan = [i for i in interfaces if not i.loopback]
        host = o.advertise or bind_host or (lan or interfaces)[0].ip
        if ":" in host and not host.startswith("["):
            host = f"[{host}]"
        core.pub_endpoint = f"tcp://{host}:{core.pubsub.bound_port}"
        core.router_endpoint = f"tcp://{host}:{core.mesh.bound_port}"
        core.rpc.methods.update(self._methods)
        for sub_id, (prefix, handler) in self._subscriptions.items():
            core.pubsub.subscribe(sub_id, prefix, handler)
        for cid, (request, handler) in self._consumers.items():
            core.streams.consume(cid, request, handler)
        core.discovery = Discovery(core, interfaces, o.advertise or bind_host or "",
                                   core.pubsub.bound_port, core.mesh.bound_port)
        core.reactor.components = [core.liveness, core.pubsub, core.rpc, core.discovery,
                                   core.streams]   # last: its timer ends each round

    def stop(self) -> None:
        """Sends LEAVE to every peer, fails pending calls (stopped), closes every socket
        (flushing for up to a second) and ends the threads, after the handler running now
        returns. Idempotent. Raises RuntimeError from the node's own threads."""
        with self._lock:
            core = self._core
            if core is None:
                return
            if core.delivery.is_current() or core.reactor.in_reactor():
                raise RuntimeError("stop() called from a handler of this node")
            core.reactor.post(lambda: self._shutdown(core))
            core.reactor.thread.join()
            core.delivery.stop()
            if core.closed:
                core.ctx.term()
            else:  # the shutdown failed half way (logged): no socket may keep stop() waiting
                core.link_ctx.destroy(0)
                core.ctx.destroy(0)
            core.reactor.close()
            self._core = None
            with core.view_changed:
                core.view = ()
                core.view_changed.notify_all()

    @staticmethod
    def _shutdown(core: Core) -> None:
        try:
            core.rpc.fail_all(ErrorKind.STOPPED, "node stopped")
            core.streams.stop_all()   # settles, then END, before LEAVE (§14.7)
            core.mesh.leave_all()
            core.discovery.close()
            core.pubsub.close()
            core.mesh.close()
            if core.zap is not None:
                core.reactor.unwatch(core.zap.sock)
                core.zap.close()
            core.closed = True
        finally:
            core.reactor.stop_soon()

    def __enter__(self) -> "Node":
        """start(): a with block runs with the node started."""
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        """stop(), however the with block ends."""
        self.stop()

    def _post(self, fn: Callable[[Core], None]) -> bool:
        core = self._core
        if core is None:
            return False
        core.reactor.post(lambda: fn(core))
        return True

    # --- events ----------------------------------------------------------------------------

    def subscribe(self, prefix: str | bytes, handler: Callable[[Event], None]) -> int:
        """Calls handler(event) on the handler thread for every event whose topic starts
        with prefix ("" = every topic), from any peer and from this node itself. Before or
        after start(). Returns an id for unsubscribe(). Raises ValueError for a prefix over
        255 bytes (245 with libzmq before 4.3.5) or holding NUL, or past the 1000 distinct
        prefixes (64 KiB of them) a publisher accepts from one subscriber."""
        raw = prefix.encode("utf-8", "surrogateescape") if isinstance(prefix, str) else bytes(prefix)
        wire.check_topic(raw, empty_ok=True)
        if zmq.zmq_version_info() < (4, 3, 5) and len(raw) > 245:
            raise ValueError("libzmq before 4.3.5 breaks subscriptions over 245 bytes (its issue 4564)")
        distinct = {p for p, _ in self._subscriptions.values()} | {raw}
        if len(distinct) > wire.MAX_SUBSCRIPTIONS or sum(map(len, distinct)) > wire.MAX_SUBSCRIPTION_BYTES:
            raise ValueError("over 1000 distinct prefixes, or 64 KiB of them (PROTOCOL.md §9.4 rule 6)")
        sub_id = next(self._ids)
        self._subscriptions[sub_id] = (raw, handler)
        self._post(lambda core: core.pubsub.subscribe(sub_id, raw, handler))
        return sub_id

    def unsubscribe(self, sub_id: int) -> None:
        """Stops a subscription's handler; events already queued for it may still reach it."""
        if self._subscriptions.pop(sub_id, None) is not None:
            self._post(lambda core: core.pubsub.unsubscribe(sub_id))

    def publish(self, topic: str | bytes, obj: Any) -> bool:
        """Publishes obj (anything msgpack packs: None, bool, int, float, str, bytes, lists,
        dicts) on topic to every subscriber of a matching prefix. Never blocks. Returns
        False when the node is not running. Raises ValueError for a topic that is empty, over
        255 bytes or holds NUL, or a payload over max_event_size; TypeError for an object
        msgpack cannot pack."""
        raw = topic.encode("utf-8", "surrogateescape") if isinstance(topic, str) else bytes(topic)
        wire.check_topic(raw)
        payload = wire.pack(obj)
        if len(payload) > self.options.max_event_size:
            raise ValueError(f"payload of {len(payload)} bytes is over max_event_size")
        if not self._post(lambda core: core.pubsub.publish(raw, payload)):
            self._counters["publish_dropped"] += 1
            return False
        return True

    # --- RPC -------------------------------------------------------------------------------

    def serve(self, method: str, handler: Callable[[Any], Any]) -> None:
        """Serves method (1..128 bytes): each request runs handler(args) on the handler
        thread, and what it returns is the result. Raising RpcError(code, message) answers
        with that error; any other exception answers code -32603 (handler failed). Peers
        learn the method at once. Serving a method again replaces its handler."""
        if not wire.is_str(method, 1, wire.MAX_SERVICE_LEN):
            raise ValueError("a method name is 1..128 bytes")
        self._methods[method] = handler
        self._post(lambda core: core.rpc.serve(method, handler))

    def unserve(self, method: str) -> None:
        """Stops serving method; peers learn it at once, and requests that come later are
        answered -32601 (no such method). Requests already queued still run. A method not
        served is ignored."""
        self._methods.pop(method, None)
        self._post(lambda core: core.rpc.serve(method, None))

    def call_future(self, method: str, args: Any = None, timeout: float = 5.0,
                    peer: PeerRef = None) -> concurrent.futures.Future:
        """Calls method on the joined peer serving it with the fewest calls outstanding from
        this node (ties: in turn), or on peer (an id, its hex, or a unique name), whether or
        not it advertises the method. Never blocks. The future's result is the call's, or
        RpcError: no_provider at once when nobody serves it, peer_lost at once when the peer
        leaves, timeout after timeout seconds, remote (with code) when the server answered
        an error, busy (code -32000) when the server's queue was full and nothing ran, decode,
        stopped, invalid. Its done-callbacks run on the reactor thread: they must return at
        once."""
        future: concurrent.futures.Future = concurrent.futures.Future()
        if not wire.is_str(method, 1, wire.MAX_SERVICE_LEN):
            future.set_exception(RpcError(ErrorKind.INVALID, "method name must be 1..128 bytes"))
            return future
        try:
            packed = wire.pack(args)
        except Exception as e:
            future.set_exception(RpcError(ErrorKind.INVALID, f"arguments cannot be packed: {e}"))
            return future
        if len(packed) > self.options.max_rpc_size:
            future.set_exception(RpcError(ErrorKind.INVALID, f"arguments of {len(packed)} "
                                          "bytes are over max_rpc_size"))
            return future
        if timeout <= 0:
            future.set_exception(RpcError(ErrorKind.INVALID, "timeout must be positive"))
            return future
        if not self._post(lambda core: core.rpc.start_call(method, packed, timeout, peer, future)):
            future.set_exception(RpcError(ErrorKind.STOPPED, "node is not running"))
        return future

    def call(self, method: str, args: Any = None, timeout: float = 5.0,
             peer: PeerRef = None) -> Any:
        """call_future(...).result(): blocks until the result, or raises RpcError. Not from
        the reactor thread (a call_future callback)."""
        core = self._core
        if core is not None and core.reactor.in_reactor():
            raise RuntimeError("call() would wait on its own reactor: use call_future()")
        try:
            return self.call_future(method, args, timeout, peer).result(timeout + 5.0)
        except concurrent.futures.TimeoutError:  # only if the reactor is gone
            raise RpcError(ErrorKind.TIMEOUT, "no reply in time") from None

    async def call_async(self, method: str, args: Any = None, timeout: float = 5.0,
                         peer: PeerRef = None) -> Any:
        """The asyncio flavour of call(): awaits the result, or raises RpcError."""
        return await asyncio.wrap_future(self.call_future(method, args, timeout, peer))

    # --- durable streams (PROTOCOL.md §14) -------------------------------------------------

    def consume(self, stream: str, consumer: str, handler: Callable[[StreamMessage], None], *,
                start: str | int | datetime.datetime = "new", ack_wait: float = 30.0,
                max_deliveries: int = 5, backoff: tuple[float, ...] = (0,),
                max_in_flight: int = 256, ordered_by_key: bool = False) -> int:
        """Consumes stream from every member that publishes it, as consumer: members of one
        consumer name share the work (each record goes to one of them at a time), and the
        publisher keeps the name's position, so a consumer resumes where it was.
        handler(message) runs on the handler thread and settles each StreamMessage (ack,
        nak, in_progress, term); unsettled after ack_wait seconds it is delivered again,
        after max_deliveries attempts it goes to the stream "<stream>.dlq". A consumer new
        to the publisher starts at start: "new" (records stored from now on), "first" (the
        oldest kept), a seq, or a datetime (the first stored at or after it; naive is
        local time). backoff: the delays, in seconds, before attempt n+1 after attempt n's
        ack wait ran out (the last repeats). At most max_in_flight deliveries are held
        unsettled. ordered_by_key: the records of one key go to one member at a time, in the
        order stored (the consumer's first CONSUME at a publisher decides, §14.3). Before
        or after start(). Returns an id for stop_consuming(). Raises
        ValueError for names outside 1..255 bytes, a name pair this node consumes already,
        more than 1024 consumers, or options outside §14.3's bounds."""
        if start == "new":
            how, value = stream_wire.START_NEW, 0
        elif start == "first":
            how, value = stream_wire.START_FIRST, 0
        elif isinstance(start, datetime.datetime):
            how, value = stream_wire.START_TIME, max(int(start.timestamp() * 1_000_000), 0)
        elif type(start) is int and start >= 0:
            how, value = stream_wire.START_SEQ, start
        else:
            raise ValueError('start is "new", "first", a seq (int >= 0) or a datetime')
        request = stream_wire.Consume(stream, consumer, how, value, round(ack_wait * 1000),
                                      max_deliveries, tuple(round(b * 1000) for b in backoff),
                                      max_in_flight,
                                      stream_wire.ORDER_BY_KEY if ordered_by_key else stream_wire.ORDER_NONE)
        stream_wire.encode_consume(request)   # raises ValueError for what a publisher refuses
        if any(r.stream == stream and r.consumer == consumer for r, _ in self._consumers.values()):
            raise ValueError(f"this node consumes {stream!r} as {consumer!r} already")
        if len(self._consumers) >= MAX_CONSUMERS:
            raise ValueError("more than 1024 consumers")
        cid = next(self._ids)
        self._consumers[cid] = (request, handler)
        self._post(lambda core: core.streams.consume(cid, request, handler))
        return cid

    def stop_consuming(self, consumer_id: int) -> None:
        """Stops a consumer: its settles made so far are sent, then what it holds unsettled
        goes to the other members of its name. Messages already queued for its handler may
        still reach it; their settles are refused (stream_settles_stale)."""
        if self._consumers.pop(consumer_id, None) is not None:
            self._post(lambda core: core.streams.stop_consuming(consumer_id))

    # --- looking at the mesh ---------------------------------------------------------------

    def peers(self) -> list[PeerInfo]:
        """Every peer this node knows (connecting ones included): a snapshot. Empty when
        not running."""
        core = self._core
        return list(core.view) if core else []

    def stats(self) -> dict[str, int]:
        """Every counter, named as the C++ node's (PROTOCOL.md §6.9)."""
        return dict(self._counters)

    def wait_until(self, predicate: Callable[[list[PeerInfo]], Any], timeout: float) -> bool:
        """Waits until predicate(peers()) is true, up to timeout seconds. Returns whether it
        became true. Not from the reactor thread."""
        core = self._core
        if core is None:
            return False
        deadline = time.monotonic() + timeout
        with core.view_changed:
            while not predicate(list(core.view)):
                left = deadline - time.monotonic()
                if left <= 0 or self._core is not core:
                    return False
                core.view_changed.wait(min(left, 0.1))
        return True

    def wait_for_peers(self, n: int = 1, timeout: float = 10.0) -> bool:
        """Waits until at least n members have joined (observers not counted)."""
        return self.wait_until(lambda ps: sum(p.state == JOINED and not p.observer for p in ps) >= n,
                               timeout)

    def wait_for_provider(self, method: str, timeout: float = 10.0) -> bool:
        """Waits until a joined member serves method, so call(method) finds it."""
        return self.wait_until(lambda ps: any(p.state == JOINED and not p.observer
                                              and method in p.services for p in ps), timeout)

    def wait_for_subscribers(self, topic: str, n: int = 1, timeout: float = 10.0) -> bool:
        """Waits until n joined members have told this node (SUBS) that they subscribe to a
        prefix of topic, so that what is published from then on reaches them."""
        def count(ps: list[PeerInfo]) -> int:
            return sum(p.state == JOINED and p.subscriptions is not None
                       and any(topic.startswith(x) for x in p.subscriptions) for p in ps)
        return self.wait_until(lambda ps: count(ps) >= n, timeout)

    def __repr__(self) -> str:
        return f"Node({self.name!r}, {self.id.hex()}, {'running' if self.running else 'stopped'})"
