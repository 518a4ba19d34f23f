# SPDX-License-Identifier: MPL-2.0
"""core: what the components of a running node share (options, id, sockets' context, the
reactor and the handler thread, counters), and the snapshot of the peer table that other
threads read without asking the reactor."""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Callable, Optional

import zmq

from .options import Options
from .peers import Peer, PeerEvent, PeerInfo
from .reactor import Delivery, Reactor

if TYPE_CHECKING:
    from .discovery import Discovery
    from .liveness import Liveness
    from .mesh import Mesh
    from .pubsub import PubSub
    from .rpc import Rpc
    from .streams import Streams
    from .security import Allowlist, ZapHandler

log = logging.getLogger("zmesh")

# Every counter a node keeps, named and ordered as the C++ node's (PROTOCOL.md §6.9): STATS
# sends them in this order, and the monitor shows them by these names.
COUNTERS = (
    "beacons_sent beacon_send_errors beacons_received beacons_invalid beacons_foreign_mesh "
    "beacons_unauthenticated beacons_replayed beacon_questions beacon_answers "
    "hellos_foreign_mesh frames_invalid "
    "frames_bad_version frames_unknown_type frames_unknown_sender sends_dropped "
    "link_disconnects handshake_timeouts handshakes_failed handshakes_failed_timeout "
    "handshakes_failed_closed handshakes_failed_protocol handshakes_failed_auth pings_sent "
    "peers_refused endpoint_conflicts hellos_unverified leaves_unverified frames_wrong_link "
    "subscriptions_refused connections_cut zap_denied peers_not_allowed frames_key_mismatch "
    "events_out events_in events_local local_dropped events_gaps events_invalid "
    "events_oversized sub_disconnects sub_revived events_unknown_sender events_early_dropped "
    "publish_dropped handler_errors receive_paused rpc_calls rpc_ok rpc_remote_errors "
    "rpc_timeouts rpc_peer_lost rpc_no_provider rpc_stray_replies rpc_served "
    "rpc_unknown_method rpc_bad_requests rpc_busy rpc_expired rpc_replies_dropped "
    "stream_stored stream_store_failures stream_consumes_refused stream_stale_settles "
    "stream_delivered "
    "stream_redelivered stream_duplicates_dropped stream_overflow_dropped stream_settles_sent "
    "stream_settles_stale stream_frames_invalid stream_admin_refused "
    "peers_joined peers_left").split()


class Core:
    """Shared by the components of one running node. Reactor thread, except view,
    view_changed and counters, which any thread may read."""

    def __init__(self, options: Options, nid: bytes, ctx: zmq.Context, reactor: Reactor,
                 delivery: Delivery, counters: dict[str, int],
                 keys: Optional[tuple[bytes, bytes]], allowlist: Optional["Allowlist"],
                 mesh_secret: Optional[bytes]) -> None:
        self.options, self.id, self.ctx = options, nid, ctx
        # The links live in a context of their own: at stop, terminating it is what tells
        # that every LEAVE has gone out (or its linger passed) before the ROUTER closes, so
        # a peer reads our LEAVE before it sees our ROUTER go (§8.5).
        self.link_ctx = zmq.Context()
        self.reactor, self.delivery, self.counters = reactor, delivery, counters
        self.secret_key, self.public_key = keys if keys else (None, None)
        self.allowlist, self.mesh_secret = allowlist, mesh_secret
        self.pub_endpoint = self.router_endpoint = ""   # as advertised (§4.3), set at start
        self.peer_handlers: list[Callable[[PeerEvent], None]] = []
        # The components, set by Node.start(); each reaches the others through here.
        self.mesh: "Mesh" = None  # type: ignore[assignment]
        self.liveness: "Liveness" = None  # type: ignore[assignment]
        self.pubsub: "PubSub" = None  # type: ignore[assignment]
        self.rpc: "Rpc" = None  # type: ignore[assignment]
        self.streams: "Streams" = None  # type: ignore[assignment]
        self.discovery: Optional["Discovery"] = None
        self.zap: Optional["ZapHandler"] = None
        self.closed = False   # every socket closed by the shutdown: the contexts may end
        self.view: tuple[PeerInfo, ...] = ()
        self.view_changed = threading.Condition()

    @property
    def secured(self) -> bool:
        return self.secret_key is not None

    def curve_server(self, sock: zmq.Socket) -> None:
        """§12.2 item 3: a bound socket is a CURVE server admitting only allowed keys (ZAP)."""
        if self.secured:
            sock.setsockopt(zmq.CURVE_SERVER, 1)
            sock.setsockopt(zmq.CURVE_SECRETKEY, self.secret_key)
            sock.setsockopt(zmq.ZAP_DOMAIN, b"zmesh")

    def curve_client(self, sock: zmq.Socket, server_key: Optional[str]) -> None:
        """§12.2 item 3: before each connect, the key the peer dialled must prove it holds."""
        if self.secured:
            sock.setsockopt(zmq.CURVE_PUBLICKEY, self.public_key)
            sock.setsockopt(zmq.CURVE_SECRETKEY, self.secret_key)
            sock.setsockopt(zmq.CURVE_SERVERKEY, (server_key or "").encode())

    def changed(self) -> None:
        """Publishes a new snapshot of the peer table to waiting threads."""
        with self.view_changed:
            self.view = tuple(p.info() for p in self.mesh.peers.values())
            self.view_changed.notify_all()

    def peer_event(self, kind: str, p: Peer, reason: Optional[str] = None) -> None:
        """Logs a membership change and hands it to the on_peer_event handlers."""
        log.info("%s %s %s%s", kind, p.name, p.id.hex(), f" {reason}" if reason else "")
        event = PeerEvent(kind, p.id, p.name, reason)
        for handler in self.peer_handlers:
            self.delivery.submit(handler, event)
        self.changed()
