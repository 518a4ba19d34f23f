#!/usr/bin/python3
# SPDX-License-Identifier: MPL-2.0
"""examples.python_shop: the Python HTTP front end (examples/python/shop_web.py) places
orders through the mesh with the C++ inventory service (zmesh-example-inventory), as a
client would: over HTTP.

usage: /usr/bin/python3 tests/interop/shop_example_test.py BUILD/bin [unittest args]
"""

import json
import os
import signal
import sys
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import support  # noqa: E402
from support import ROOT, STEP, MeshCase, Proc, free_tcp_port, wait_for  # noqa: E402


def http(method, url, body=None):
    """(status, JSON body) of one request."""
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=STEP) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


class Shop(MeshCase):
    def inventory(self, name, stock, *extra):
        p = self.run_cxx(name, "zmesh-example-inventory", "--name", name, *self.local(),
                         "--stock", stock, *extra)
        p.wait_line(rf"^ready {name}$")
        return p

    def test_orders_through_the_http_front_end(self):
        port = free_tcp_port()
        seed = f"tcp://127.0.0.1:{port}"
        inv_a = self.inventory("inv-a", "apple=5,pear=2", "--router-port", port)
        web = Proc(self.dir, "shop-web", [sys.executable, os.path.join(ROOT, "examples", "python", "shop_web.py"),
                                          "--port", "0", "--name", "shop-web", "--mesh", self.mesh,
                                          "--seed", seed, "--interface", "lo", "--bind", "127.0.0.1",
                                          "--beacon-interval", "0"])
        self.procs.append(web)
        url = web.wait_line(r"^listening on (http://\S+)$").group(1)

        status, body = http("POST", url + "/orders", {"item": "apple", "qty": 3})
        self.assertEqual((status, body["state"], body["by"]), (201, "reserved", "inv-a"), body)
        first = body["order_id"]
        status, body = http("POST", url + "/orders", {"item": "apple", "qty": 3})
        self.assertEqual((status, body["state"], body["reason"]), (409, "rejected", "out of stock"), body)
        status, body = http("POST", url + "/orders", {"item": "kiwi", "qty": 1})
        self.assertEqual((status, body["reason"]), (409, "unknown item"), body)
        self.assertEqual(http("POST", url + "/orders", {"item": "pear", "qty": 0})[0], 400)
        self.assertEqual(http("POST", url + "/orders", ["not", "an", "order"])[0], 400)

        status, body = http("GET", url + f"/orders/{first}")
        self.assertEqual((status, body["state"], body["qty"]), (200, "reserved", 3))
        self.assertEqual(http("GET", url + "/orders/12345")[0], 404)
        status, body = http("GET", url + "/stock")
        self.assertEqual(status, 200)
        self.assertEqual([(r["name"], r["left"]) for r in body], [("inv-a", {"apple": 2, "pear": 2})])

        # A second warehouse: orders are spread over both.
        self.inventory("inv-b", "apple=50,pear=50", "--seed", seed)
        self.assertTrue(wait_for(lambda: len(http("GET", url + "/stock")[1]) == 2))
        by = {http("POST", url + "/orders", {"item": "pear", "qty": 1})[1]["by"] for _ in range(4)}
        self.assertEqual(by, {"inv-a", "inv-b"})

        # Both gone: the front end says so, it does not hang.
        for inv in self.procs[:]:
            if inv.label.startswith("inv-"):
                inv.signal(signal.SIGKILL)
        self.assertTrue(wait_for(lambda: http("GET", url + "/stock")[1] == []))
        status, body = http("POST", url + "/orders", {"item": "apple", "qty": 1})
        self.assertEqual(status, 503, body)
        self.assertEqual(inv_a.stop(), -signal.SIGKILL)
        self.assertEqual(web.stop(), 0)
        print("  ok: reserved, rejected (out of stock, unknown item), bad input, both "
              "warehouses used, 503 once none is left")


if __name__ == "__main__":
    support.main()
