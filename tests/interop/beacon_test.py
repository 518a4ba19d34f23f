#!/usr/bin/python3
# SPDX-License-Identifier: MPL-2.0
"""Interop: discovery by beacon (PROTOCOL.md §5) between the Python package and C++ nodes,
with no seed anywhere: each side hears the other's beacons on loopback, they join, and the
mesh closes through PEERS (§7.4).

usage: /usr/bin/python3 tests/interop/beacon_test.py BUILD/bin [unittest args]
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import support  # noqa: E402
from support import STEP, MeshCase, wait_for  # noqa: E402


class ByBeacon(MeshCase):
    def test_python_and_cxx_find_each_other(self):
        cxx = self.cxx_node("cxx-node", "--serve", "echo", "--subscribe", "beacon.", beacons=True)
        py = self.py_node("py-node", beacons=True)
        py.serve("py.twice", lambda x: 2 * x)
        peer = self.joined(py, "cxx-node")
        cxx.wait_line(rf"^joined py-node {py.id_hex}\b")
        self.assertEqual(py.call("echo", [1, "two"], peer=peer.id), [1, "two"])
        self.assertTrue(py.wait_for_subscribers("beacon.x", 1, STEP))
        py.publish("beacon.x", {"from": "python"})
        m = cxx.wait_line(r'^event .*"topic":"beacon\.x"')
        self.assertIn('"from":"python"', m.string)
        # Whichever heard the other first dialled: the Python node hears the next beacon.
        self.assertTrue(wait_for(lambda: py.stats()["beacons_received"] > 0))
        self.assertEqual(py.stats()["beacons_invalid"], 0)
        print("  ok: joined by beacon both ways; echo and an event across")

    def test_a_late_python_node_learns_the_mesh(self):
        # Two C++ nodes that beacon, and a Python node that listens: it hears both, and a
        # C++ node started later is learned too.
        self.cxx_node("cxx-a", beacons=True)
        self.cxx_node("cxx-b", beacons=True)
        py = self.py_node("py-node", beacons=True)
        self.joined(py, "cxx-a")
        self.joined(py, "cxx-b")
        c = self.cxx_node("cxx-c", "--serve", "time", beacons=True)
        self.joined(py, "cxx-c")
        c.wait_line(rf"^joined py-node {py.id_hex}\b")
        self.assertTrue(py.wait_for_provider("time", STEP))
        self.assertIsInstance(py.call("time"), (int, dict, str, float))
        self.assertTrue(wait_for(lambda: len([p for p in py.peers() if p.state == "joined"]) == 3))
        print("  ok: three C++ nodes joined by beacon")

    def test_a_python_observer_asks_a_gossiping_mesh_for_beacons(self):
        # C++ members that gossip and beacon every 3 s alone beacon about every 6 s once
        # they know each other; the Python observer asks (revision 14), a member answers
        # within 100 ms, and the observer learns both members from it.
        seldom = ("--gossip", "--beacon-interval", "3s")
        a = self.cxx_node("cxx-a", *seldom, beacons=True)
        self.cxx_node("cxx-b", *seldom, beacons=True)
        a.wait_line(r"^joined cxx-b ")
        import time
        t0 = time.monotonic()
        watcher = self.py_node("py-watcher", beacons=True, observer=True)
        self.joined(watcher, "cxx-a", timeout=2.0)
        self.joined(watcher, "cxx-b", timeout=2.0)
        took = time.monotonic() - t0
        self.assertLess(took, 2.0)
        self.assertGreater(watcher.stats()["beacons_sent"], 0)   # its questions
        print(f"  ok: a Python observer found two gossiping C++ members in {took:.2f} s")

    def test_cxx_node_takes_python_beacons(self):
        # Python beacons are well-formed to a C++ node (counted as received, none invalid);
        # a Python node of another mesh is heard and ignored by both.
        import json
        import zmesh
        py = self.py_node("py-beacon", beacons=True)
        cxx = self.cxx_node("cxx-listener", "--serve", "stats", beacons=True)
        cxx.wait_line(rf"^joined py-beacon {py.id_hex}\b")
        peer = self.joined(py, "cxx-listener")
        self.assertTrue(wait_for(lambda: py.call("stats", peer=peer.id)["beacons_received"] > 0))
        stranger = zmesh.Node(name="stranger", mesh=self.mesh + "-other", interface="lo",
                              bind="127.0.0.1", beacon_port=self.beacon_port)
        self.nodes.append(stranger)
        stranger.start()
        self.assertTrue(wait_for(lambda: py.stats()["beacons_foreign_mesh"] > 0))
        # Each listener hears the stranger's beacon in its own time: wait on the C++ node's
        # own count before stopping it, not on the Python node's.
        self.assertTrue(wait_for(
            lambda: py.call("stats", peer=peer.id)["beacons_foreign_mesh"] > 0))
        self.assertEqual(cxx.stop(), 0)
        stats = json.loads(next(x for x in cxx.lines() if x.startswith("stats "))[6:])
        self.assertGreater(stats["beacons_received"], 0)
        self.assertGreater(stats["beacons_foreign_mesh"], 0)
        self.assertEqual(stats["beacons_invalid"], 0)
        self.assertFalse(any(p.name == "stranger" for p in py.peers()))
        print(f"  ok: the C++ node took {stats['beacons_received']} beacons, "
              f"ignored {stats['beacons_foreign_mesh']} of another mesh")


if __name__ == "__main__":
    support.main()
