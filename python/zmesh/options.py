# SPDX-License-Identifier: MPL-2.0
"""options: a node's configuration, with the C++ node's defaults (PROTOCOL.md Appendix A).
Durations are in seconds, as Python's own APIs count them."""

from __future__ import annotations

import dataclasses
import os
import socket
from typing import Optional, Sequence

from . import wire
from .beacon import DEFAULT_PORT


def default_name() -> str:
    """HOST-PID, as the C++ node's default."""
    return f"{socket.gethostname()}-{os.getpid()}"[:wire.MAX_NAME_LEN]


@dataclasses.dataclass
class Options:
    """A node's configuration: the C++ node's options, with its names and defaults
    (durations in seconds). Node(**kw) builds one and validates it.

    Identity: name (1..64 bytes, default HOST-PID; need not be unique), mesh (1..64 bytes:
    nodes talk only within their mesh).
    Discovery: seeds (ROUTER endpoints to ask for the mesh), interface (the NICs beacons
    use, whose address is advertised by default: auto, a NIC name or an IPv4), beacon_port
    and beacon_interval (UDP beacons; 0: none, seeds only), seed_interval (how often seeds
    are asked again), advertise (the host peers should dial, instead).
    Sockets: bind (host the PUB and ROUTER bind on), pub_port and router_port (0: any free
    port; fix router_port on a node others seed from).
    Liveness (PROTOCOL.md §8): heartbeat (link PING period), evasive (silence before a peer
    is suspected), expired (silence before it has left), handshake (time a dialled peer has
    to answer HELLO), disconnect_grace (time a dropped connection has to come back), drain
    (how long a peer that left may still deliver its last events).
    Queues and limits: hwm (events queued per peer, each way: past it they are dropped and
    show as gaps), peer_queue (messages queued per link: past it a call fails as
    peer_lost), max_peers (peers known at once), max_event_size and max_rpc_size (payload
    bytes, both ways), rpc_queue (requests waiting for the handler thread: past it callers
    get busy), receive_queue (events waiting for the handler thread: past it receiving
    pauses).
    Role: observer (a passive watcher, as the monitor: not a member, sends no beacons, and
    is never chosen for a call that names no peer).
    Security (PROTOCOL.md §12): secret_key (path of this node's key file) makes the node
    secured and needs mesh_secret (path of the file that signs beacons) and allow_dir or
    allowed_keys (the members' public keys: a directory of *.pub files, Z85 keys).
    """

    name: str = dataclasses.field(default_factory=default_name)
    mesh: str = "default"
    seeds: Sequence[str] = ()            # tcp://HOST:PORT; secured: KEY@tcp://... or NAME@tcp://...
    interface: Optional[str] = None      # auto, a NIC name or an IPv4; None: $ZMESH_INTERFACE or auto
    beacon_port: int = DEFAULT_PORT
    beacon_interval: float = 1.0         # 0: no beacon socket at all (seeds only)
    advertise: Optional[str] = None      # the host peers should dial
    bind: str = "*"                      # where the PUB and ROUTER bind
    pub_port: int = 0                    # 0: any free port
    router_port: int = 0
    heartbeat: float = 0.25
    evasive: float = 1.0
    expired: float = 3.0
    handshake: float = 3.0
    disconnect_grace: float = 1.0
    seed_interval: float = 1.0
    drain: float = 1.0
    hwm: int = 10000                     # events queued per peer, each way
    peer_queue: int = 100000             # messages queued per link
    max_peers: int = 1024
    max_event_size: int = wire.MAX_EVENT_SIZE
    max_rpc_size: int = wire.MAX_RPC_SIZE
    rpc_queue: int = 10000               # requests waiting for the handler thread
    receive_queue: int = 10000           # events waiting for the handler thread
    observer: bool = False
    secret_key: Optional[str] = None     # path of NAME.key: a secured mesh
    allow_dir: Optional[str] = None      # directory of the members' *.pub files
    allowed_keys: Sequence[str] = ()     # Z85 public keys allowed besides allow_dir's
    mesh_secret: Optional[str] = None    # path of the mesh secret file (signed beacons)

    def validate(self) -> None:
        """Raises ValueError with a one-line message for a bad value."""
        def nbytes(s: str) -> int:
            return len(s.encode("utf-8", "surrogateescape"))
        if not 1 <= nbytes(self.name) <= wire.MAX_NAME_LEN:
            raise ValueError("name must be 1..64 bytes")
        if not 1 <= nbytes(self.mesh) <= wire.MAX_MESH_LEN:
            raise ValueError("mesh must be 1..64 bytes")
        if isinstance(self.seeds, str):
            raise ValueError("seeds is a list of endpoints, not one string")
        for seed in self.seeds:
            if not wire.is_endpoint(seed.rpartition("@")[2]):
                raise ValueError(f"seed '{seed}' is not tcp://HOST:PORT (or KEY@tcp://HOST:PORT)")
        if not 0 < self.heartbeat < self.evasive < self.expired:
            raise ValueError("need 0 < heartbeat < evasive < expired")
        if self.beacon_interval < 0 or self.handshake <= 0 or self.seed_interval <= 0:
            raise ValueError("beacon_interval must be >= 0, handshake and seed_interval > 0")
        if not 0 < self.beacon_port <= 65535 or not 0 <= self.pub_port <= 65535 \
                or not 0 <= self.router_port <= 65535:
            raise ValueError("ports must be 0..65535 (beacon_port 1..65535)")
        if self.advertise is not None and not wire.is_host(self.advertise):
            raise ValueError(f"advertise '{self.advertise}' is not a host name or address")
        if self.secret_key is None and (self.allow_dir or self.allowed_keys or self.mesh_secret):
            raise ValueError("allow_dir, allowed_keys and mesh_secret need secret_key "
                             "(a plain mesh is unauthenticated: PROTOCOL.md §12.1)")
        if self.secret_key is not None and self.mesh_secret is None:
            raise ValueError("a secured node needs mesh_secret (its beacons are signed)")
        if self.secret_key is not None and not (self.allow_dir or self.allowed_keys):
            raise ValueError("a secured node needs allow_dir or allowed_keys")
        for size in (self.max_event_size, self.max_rpc_size):
            if not 0 < size <= 256 << 20:
                raise ValueError("max_event_size and max_rpc_size must be 1..256 MiB")

    @property
    def secured(self) -> bool:
        """Whether the node is on a secured mesh (CURVE, allowlist, signed beacons)."""
        return self.secret_key is not None

    def chosen_interface(self) -> str:
        """interface, else $ZMESH_INTERFACE, else "auto" (loopback and one LAN NIC)."""
        return self.interface or os.environ.get("ZMESH_INTERFACE") or "auto"
