#!/usr/bin/env python3
# SPDX-License-Identifier: MPL-2.0
"""shop_web: a small HTTP front end that places orders through the mesh, in Python, beside
the C++ orders/inventory example (examples/README.md). It speaks HTTP and JSON to its
clients and msgpack maps to the C++ inventory (the messages of examples/shop.hpp):

    POST /orders   {"item": "apple", "qty": 2}  -> 201 {"order_id", "state": "reserved", "by"}
                                                   409 {"state": "rejected", "reason"}
                                                   400 bad input, 503 no inventory answered
    GET  /orders/ID                              -> the order as this front end knows it
    GET  /stock                                  -> every inventory instance's stock report
    GET  /healthz                                -> this node and the peers it sees

Each order is announced (event order.created), then one inventory instance reserves it
(RPC inventory.reserve, to the least busy one); should that instance die mid-call
(peer_lost, timeout), the call goes to another. The inventories' decisions
(inventory.reserved / inventory.rejected events) are followed too.

    python3 examples/python/shop_web.py --mesh shop --port 8080 [--seed tcp://HOST:PORT]
"""

import argparse
import json
import logging
import os
import secrets
import signal
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

try:
    import zmesh
except ImportError:  # run from a checkout without `pip install ./python`
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "python"))
    import zmesh

RESERVE_TIMEOUT = 2.0    # seconds per inventory.reserve call
ATTEMPTS = 3             # instances tried when one dies mid-call
PROVIDER_WAIT = 2.0      # how long an order waits for an inventory to be known


class Shop:
    """The orders this front end placed, and the node it places them through. Touched from
    HTTP threads and the node's handler thread: one lock, held only for the dict."""

    def __init__(self, node: zmesh.Node):
        self.node = node
        self.orders = {}
        self.lock = threading.Lock()
        node.subscribe("inventory.", self.on_decision)

    def on_decision(self, event: zmesh.Event) -> None:
        """An inventory's decision, whoever placed the order: ours are recorded."""
        r = event.payload
        if not isinstance(r, dict):
            return
        with self.lock:
            order = self.orders.get(r.get("order_id"))
            if order is not None and order["state"] == "pending":
                order.update(state="reserved" if r.get("reserved") else "rejected",
                             by=r.get("by", ""), reason=r.get("reason", ""))

    def place(self, item: str, qty: int) -> tuple[int, dict]:
        """(HTTP status, body) of one order."""
        # Random ids: other front ends and the C++ orders service share the inventories,
        # which answer a repeated order id with the decision they took for it. Below 2^53,
        # so that a JSON client in any language reads it exactly.
        order = {"order_id": secrets.randbits(52), "item": item, "qty": qty, "state": "pending",
                 "by": "", "reason": ""}
        with self.lock:
            self.orders[order["order_id"]] = order
        request = {"order_id": order["order_id"], "item": item, "qty": qty}
        self.node.publish("order.created", request)
        if not self.node.wait_for_provider("inventory.reserve", PROVIDER_WAIT):
            return 503, {"error": "no inventory service is reachable"}
        for attempt in range(ATTEMPTS):
            try:
                r = self.node.call("inventory.reserve", request, timeout=RESERVE_TIMEOUT)
                break
            except zmesh.RpcError as e:
                if e.kind in ("peer_lost", "timeout") and attempt + 1 < ATTEMPTS:
                    continue   # that instance died or is stuck: another one decides
                status = 502 if e.kind == "remote" else 503
                return status, {"order_id": order["order_id"], "error": str(e), "kind": e.kind}
        with self.lock:
            order.update(state="reserved" if r["reserved"] else "rejected", by=r["by"],
                         reason=r.get("reason", ""))
            body = dict(order)
        return (201 if r["reserved"] else 409), body

    def get(self, order_id: int):
        with self.lock:
            order = self.orders.get(order_id)
            return dict(order) if order else None

    def stock(self) -> list:
        """Each inventory instance's report, asked of each by id."""
        reports = []
        for p in self.node.peers():
            if p.state == "joined" and "inventory.stock" in p.services:
                try:
                    reports.append(self.node.call("inventory.stock", None, timeout=1.0, peer=p.id))
                except zmesh.RpcError as e:
                    reports.append({"name": p.name, "error": str(e)})
        return sorted(reports, key=lambda r: r.get("name", ""))


def handler_for(shop: Shop):
    class Handler(BaseHTTPRequestHandler):
        def reply(self, status: int, body) -> None:
            data = json.dumps(body).encode() + b"\n"
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self):
            if self.path != "/orders":
                return self.reply(404, {"error": "POST /orders only"})
            try:
                length = int(self.headers.get("Content-Length", "0"))
                body = json.loads(self.rfile.read(min(length, 65536)) or b"null")
                item, qty = body["item"], body["qty"]
                if not isinstance(item, str) or not item or type(qty) is not int or qty <= 0:
                    raise ValueError
            except (ValueError, KeyError, TypeError):
                return self.reply(400, {"error": 'want {"item": NAME, "qty": N > 0}'})
            self.reply(*shop.place(item, qty))

        def do_GET(self):
            if self.path == "/stock":
                return self.reply(200, shop.stock())
            if self.path == "/healthz":
                return self.reply(200, {"name": shop.node.name, "id": shop.node.id_hex,
                                        "peers": [p.name for p in shop.node.peers() if p.state == "joined"]})
            if self.path.startswith("/orders/"):
                try:
                    order = shop.get(int(self.path[len("/orders/"):]))
                except ValueError:
                    order = None
                return self.reply(200, order) if order else self.reply(404, {"error": "no such order"})
            self.reply(404, {"error": "no such resource"})

        def log_message(self, fmt, *args):   # one line per request, on stderr
            logging.info("%s %s", self.address_string(), fmt % args)

    return Handler


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--host", default="127.0.0.1", help="HTTP address to listen on")
    ap.add_argument("--port", type=int, default=8080, help="HTTP port (0: any free)")
    ap.add_argument("--name", default="shop-web")
    ap.add_argument("--mesh", default="default")
    ap.add_argument("--seed", action="append", default=[], help="tcp://HOST:PORT (repeatable)")
    ap.add_argument("--interface", default=None, help="beacon interface (default: $ZMESH_INTERFACE or auto)")
    ap.add_argument("--bind", default="*", help="where the node's sockets bind")
    ap.add_argument("--beacon-interval", type=float, default=1.0, help="seconds; 0: seeds only")
    ap.add_argument("--beacon-port", type=int, default=5870)
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    try:
        node = zmesh.Node(name=args.name, mesh=args.mesh, seeds=args.seed, interface=args.interface,
                          bind=args.bind, beacon_interval=args.beacon_interval,
                          beacon_port=args.beacon_port)
        shop = Shop(node)
        node.start()
        server = ThreadingHTTPServer((args.host, args.port), handler_for(shop))
    except (ValueError, zmesh.SetupError, OSError) as e:
        print(f"shop_web: error: {e}", file=sys.stderr)
        return 1
    # SIGTERM as Ctrl-C: the server stops (from another thread, as it must) and the node
    # leaves with a LEAVE.
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    print(f"listening on http://{args.host}:{server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        node.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
