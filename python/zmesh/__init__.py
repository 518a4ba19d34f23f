# SPDX-License-Identifier: MPL-2.0
"""zmesh: a member of a zmesh mesh in pure Python (pyzmq and msgpack), speaking ZMESH/1
(protocol/PROTOCOL.md) with C++ nodes and other Python ones: discovery by beacons and seeds,
membership and liveness, events (publish/subscribe) and RPC (call/serve), plain or secured
(CURVE, an allowlist of keys, signed beacons).

    import zmesh
    with zmesh.Node(name="web", mesh="shop") as node:
        node.wait_for_provider("inventory.reserve", timeout=5)
        try:
            print(node.call("inventory.reserve", {"order_id": 1, "item": "apple", "qty": 2}))
        except zmesh.RpcError as e:
            print(e.kind, e.code, e.message)      # timeout, no_provider, peer_lost, remote...
"""

from .errors import ErrorKind, RpcError, SetupError
from .node import Node
from .options import Options
from .peers import PeerEvent, PeerInfo
from .pubsub import Event
from .streams import StreamMessage

__version__ = "0.1.0"
__all__ = ["Node", "Options", "Event", "StreamMessage", "PeerInfo", "PeerEvent", "RpcError",
           "ErrorKind", "SetupError", "__version__"]
