# SPDX-License-Identifier: MPL-2.0
"""peers: what a node knows of each peer it dialled (PROTOCOL.md §8.3 states), and the
read-only views of them the application gets (PeerInfo, PeerEvent)."""

from __future__ import annotations

import dataclasses
from typing import Any, Optional

CONNECTING, JOINED, EVASIVE = "connecting", "joined", "evasive"
MEMBER_STATES = (JOINED, EVASIVE)


@dataclasses.dataclass(frozen=True)
class PeerInfo:
    """One peer as peers() shows it: a snapshot, safe to keep."""

    id: bytes
    name: str
    state: str                          # connecting, joined or evasive
    pub_endpoint: str                   # as it advertised them in its HELLO
    router_endpoint: str
    services: tuple[str, ...]           # the methods it serves
    subscriptions: Optional[tuple[str, ...]]   # its prefixes (SUBS), None until known
    observer: bool
    rtt_us: Optional[int]               # the link's round trip, None until measured

    @property
    def id_hex(self) -> str:
        """The peer's node id as 32 hex digits (call(peer=...) takes it)."""
        return self.id.hex()


@dataclasses.dataclass(frozen=True)
class PeerEvent:
    """A change in membership, as on_peer_event handlers receive it. kind is joined,
    evasive, recovered or left; reason is set for left (leave, expired, disconnected,
    replaced, revoked)."""

    kind: str
    id: bytes
    name: str
    reason: Optional[str] = None

    @property
    def id_hex(self) -> str:
        """The peer's node id as 32 hex digits (call(peer=...) takes it)."""
        return self.id.hex()


class Peer:
    """The reactor's record of one dialled peer. Owned by the reactor thread."""

    def __init__(self, nid: bytes, name: str, pub: str, router: str, token: int, now: float):
        self.id, self.name = nid, name
        self.pub, self.router = pub, router            # as dialled (§7.1)
        self.adv_pub, self.adv_router = pub, router    # as advertised in its HELLO (§7.4)
        self.state = CONNECTING
        self.dialled_at = self.last_seen = now
        self.observer = False
        self.services: tuple[str, ...] = ()
        self.subscriptions: Optional[tuple[str, ...]] = None
        self.my_token = token        # §7.8: the token we gave it; our link's routing id ends so
        self.their_token = 0         # the token it gave us: quoted in our HELLOs and LEAVE
        self.key: Optional[str] = None   # secured mesh: its allowed Z85 key
        self.dealer: Any = None      # our link to its ROUTER
        self.monitor: Any = None     # that link's socket monitor (§8.4)
        self.link_up = False         # the link's ZMTP handshake has completed
        self.was_up = False          # ...at least once (a later one is a link coming back)
        self.disconnected_at: Optional[float] = None   # §8.4: the link dropped then
        self.retries = 0             # CONNECT_RETRIED since the drop (§8.4 note)
        self.rtt_us: Optional[int] = None
        self.sent_since_ping = False  # §8.1: PING a link only when it carried something else
        self.last_ping = 0.0
        self.last_question = 0.0     # §7.3 rule 4: an unverified HELLO is questioned once a heartbeat
        self.outstanding = 0         # calls pending on it (§10.6 rule 2)

    @property
    def member(self) -> bool:
        return self.state in MEMBER_STATES

    def info(self) -> PeerInfo:
        return PeerInfo(self.id, self.name, self.state, self.adv_pub, self.adv_router,
                        self.services, self.subscriptions, self.observer, self.rtt_us)

    def __repr__(self) -> str:
        return f"Peer({self.name}, {self.id.hex()}, {self.state})"


def parse_routing_id(rid: bytes) -> tuple[bytes, bool, Optional[bytes]] | None:
    """(node id, call link?, token bytes or None) of a routing id at our ROUTER (§6.1), or
    None when it is no node's (a seed probe's, or a stranger's)."""
    n = len(rid)
    if n in (16, 24):
        return rid[:16], False, rid[16:] if n == 24 else None
    if n in (17, 25) and rid[16] == 0x43:
        return rid[:16], True, rid[17:] if n == 25 else None
    return None
