#!/usr/bin/python3
# SPDX-License-Identifier: MPL-2.0
"""Interop: a secured mesh (PROTOCOL.md §12.2) of C++ and Python nodes: CURVE on every
connection, an allowlist of *.pub files made by `zmesh keygen`, signed beacons (§5.4) and
keyed seeds. Members join and talk both ways; a node without an allowed key, a plain node
and a node with another mesh secret get nowhere.

usage: /usr/bin/python3 tests/interop/secured_test.py BUILD/bin [unittest args]
"""

import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import support  # noqa: E402
from support import STEP, MeshCase, free_tcp_port, wait_for, zmesh  # noqa: E402


class Secured(MeshCase):
    def setUp(self):
        super().setUp()
        self.keys = os.path.join(self.dir, "keys")
        self.allow = os.path.join(self.dir, "allow")
        os.makedirs(self.keys)
        os.makedirs(self.allow)
        self.secret = os.path.join(self.keys, "mesh.secret")
        self.keygen("--mesh-secret", self.secret)

    def keygen(self, *args):
        subprocess.run([os.path.join(support.BIN, "zmesh"), "keygen", *args], check=True,
                       capture_output=True)

    def key(self, name, allowed=True):
        """keys/NAME.key and .pub; the .pub copied into allow/ when allowed."""
        self.keygen("--out", os.path.join(self.keys, name))
        if allowed:
            with open(os.path.join(self.keys, name + ".pub")) as f, \
                    open(os.path.join(self.allow, name + ".pub"), "w") as g:
                g.write(f.read())
        return os.path.join(self.keys, name + ".key")

    def cxx_secured(self, name, *args, beacons=True):
        return self.cxx_node(name, "--key", self.key(name), "--allow", self.allow,
                             "--mesh-secret", self.secret, *args, beacons=beacons)

    def py_secured(self, name, key=None, secret=None, **options):
        return self.py_node(name, secret_key=key or self.key(name), allow_dir=self.allow,
                            mesh_secret=secret or self.secret, **options)

    def test_members_join_by_signed_beacons_and_talk(self):
        tool_key = self.key("cxx-tool")   # before the nodes start: each has it from the start
        cxx = self.cxx_secured("cxx-node", "--serve", "echo", "--serve", "stats",
                               "--subscribe", "secure.")
        py = self.py_secured("py-node", beacons=True)
        # §12.2 item 2: a secured id starts with the key it is proven by.
        with open(os.path.join(self.keys, "py-node.pub")) as f:
            self.assertEqual(py.id[:8], zmesh.security.decode_key(f.read().split()[0])[:8])
        py.serve("py.hello", lambda who: f"hello {who}")
        got = []
        py.subscribe("secure.", got.append)
        peer = self.joined(py, "cxx-node")
        cxx.wait_line(rf"^joined py-node {py.id_hex}\b")

        self.assertEqual(py.call("echo", {"secret": True}, peer=peer.id), {"secret": True})
        self.assertTrue(py.wait_for_subscribers("secure.x", 1, STEP))
        py.publish("secure.x", {"n": 1})
        cxx.wait_line(r'^event .*"topic":"secure\.x"')

        # A secured `zmesh call` (a third member, C++) calls the Python node, and a secured
        # `zmesh pub` reaches it.
        local = [*self.local(beacons=True), "--key", tool_key, "--allow", self.allow,
                 "--mesh-secret", self.secret]
        call = self.run_cxx("call", "zmesh", "call", *local, "--timeout", "5000", "py.hello", '"C++"')
        self.assertEqual(call.wait_exit(), 0, call.tail())
        self.assertEqual(call.lines(), ['"hello C++"'])
        pub = self.run_cxx("pub", "zmesh", "pub", *local, "--name", "cxx-pub", "--wait-peers", "2",
                           "--count", "3", "secure.from-cxx", '{"k": "v"}')
        self.assertEqual(pub.wait_exit(), 0)
        self.assertTrue(wait_for(lambda: len([e for e in got if e.sender_name == "cxx-pub"]) == 3))

        stats = py.call("stats", peer=peer.id)
        self.assertEqual((stats["frames_key_mismatch"], stats["beacons_unauthenticated"],
                          stats["beacons_replayed"], stats["frames_invalid"]), (0, 0, 0, 0))
        self.assertGreater(stats["beacons_received"], 0)
        mine = py.stats()
        self.assertEqual((mine["beacons_unauthenticated"], mine["frames_key_mismatch"]), (0, 0))
        self.assertGreater(mine["beacons_received"], 0)
        print("  ok: secured join by signed beacons; RPC and events both ways")

    def test_keyed_seed_without_beacons(self):
        port = free_tcp_port()
        self.cxx_secured("cxx-seed", "--router-port", port, "--serve", "echo", beacons=False)
        # NAME@tcp://... takes the seed's key from allow/NAME.pub (§12.2 item 6).
        py = self.py_secured("py-node", seeds=[f"cxx-seed@tcp://127.0.0.1:{port}"])
        self.joined(py, "cxx-seed")
        self.assertEqual(py.call("echo", "through CURVE"), "through CURVE")
        print("  ok: joined through a keyed seed")

    def test_outsiders_get_nowhere(self):
        cxx = self.cxx_secured("cxx-node", "--serve", "stats")
        member = self.py_secured("py-member", beacons=True)
        peer = self.joined(member, "cxx-node")
        # A valid key that is not on the allowlist: its beacons are signed, but no member
        # dials it, and its own dials are refused by ZAP.
        with open(os.path.join(self.keys, "cxx-node.pub")) as f:
            cxx_key = f.read().split()[0]
        outsider = self.py_node("py-outsider", beacons=True, mesh_secret=self.secret,
                                secret_key=self.key("py-outsider", allowed=False),
                                allowed_keys=[cxx_key])
        # Another mesh secret: its beacons are dropped as unauthenticated.
        other_secret = os.path.join(self.keys, "other.secret")
        self.keygen("--mesh-secret", other_secret)
        forger = self.py_secured("py-forger", secret=other_secret, beacons=True)
        # A plain node never meets the secured ones (§12.2 item 7).
        plain = self.py_node("py-plain", beacons=True)

        def counters():
            return member.call("stats", peer=peer.id)
        # The C++ member drops the forger's beacons and does not dial the outsider; the
        # outsider, which allows the C++ key, dials it and is refused by ZAP.
        self.assertTrue(wait_for(lambda: counters()["peers_not_allowed"] > 0
                                 and counters()["beacons_unauthenticated"] > 0
                                 and counters()["zap_denied"] > 0))
        self.assertTrue(wait_for(lambda: member.stats()["beacons_unauthenticated"] > 0
                                 and member.stats()["peers_not_allowed"] > 0))
        for n in (outsider, forger, plain):
            self.assertEqual([p.name for p in n.peers() if p.state == "joined"], [], n.name)
        names = {p.name for p in member.peers()}
        self.assertFalse(names & {"py-outsider", "py-forger", "py-plain"}, names)
        self.assertEqual(cxx.stop(), 0)
        stats = json.loads(next(x for x in cxx.lines() if x.startswith("stats "))[6:])
        self.assertEqual(stats["peers_joined"], 1)
        print(f"  ok: outsiders refused (C++: peers_not_allowed {stats['peers_not_allowed']}, "
              f"beacons_unauthenticated {stats['beacons_unauthenticated']}, "
              f"zap_denied {stats['zap_denied']})")


if __name__ == "__main__":
    support.main()
