# SPDX-License-Identifier: MPL-2.0
"""The API's checks that need no socket: options, errors, routing ids, and what a node
refuses before it starts."""

import unittest

import zmesh
from zmesh import ErrorKind, RpcError
from zmesh.peers import parse_routing_id


class Options(unittest.TestCase):
    def test_bad_values_are_refused_with_one_line(self):
        bad = [dict(name=""), dict(name="x" * 65), dict(mesh=""), dict(seeds="tcp://h:1"),
               dict(seeds=["h:1"]), dict(heartbeat=2.0), dict(evasive=5.0),
               dict(beacon_interval=-1), dict(beacon_port=0), dict(advertise="a b"),
               dict(mesh_secret="/x"), dict(allow_dir="/x"), dict(secret_key="/x"),
               dict(secret_key="/x", mesh_secret="/y"), dict(max_rpc_size=0)]
        for kw in bad:
            with self.subTest(kw=kw):
                with self.assertRaises(ValueError) as e:
                    zmesh.Node(**kw)
                self.assertNotIn("\n", str(e.exception))

    def test_a_missing_key_file_is_a_setup_error(self):
        with self.assertRaises(zmesh.SetupError):
            zmesh.Node(secret_key="/nonexistent.key", allow_dir="/", mesh_secret="/nonexistent")

    def test_defaults_are_the_cxx_nodes(self):
        o = zmesh.Options()
        self.assertEqual((o.mesh, o.beacon_port, o.beacon_interval, o.heartbeat, o.evasive,
                          o.expired, o.hwm, o.max_peers), ("default", 5870, 1.0, 0.25, 1.0, 3.0,
                                                           10000, 1024))


class Errors(unittest.TestCase):
    def test_kinds_are_the_cxx_names(self):
        self.assertEqual([k.value for k in ErrorKind],
                         ["timeout", "no_provider", "peer_lost", "remote", "busy", "decode",
                          "stopped", "invalid"])
        self.assertEqual(ErrorKind.TIMEOUT, "timeout")

    def test_an_int_is_a_remote_code_and_a_kind_is_local(self):
        e = RpcError(409, "out of stock")
        self.assertEqual((e.kind, e.code, e.message, str(e)),
                         (ErrorKind.REMOTE, 409, "out of stock", "remote: code 409: out of stock"))
        e = RpcError(ErrorKind.PEER_LOST, "inv-b left")
        self.assertEqual((e.kind, e.code, str(e)), ("peer_lost", 0, "peer_lost: inv-b left"))
        with self.assertRaises(TypeError):
            RpcError(True, "a bool is not a code")

    def test_busy_keeps_the_servers_code(self):
        e = RpcError(ErrorKind.BUSY, "server busy")
        self.assertEqual((e.kind, e.code, str(e)), ("busy", -32000, "busy: server busy"))
        self.assertEqual(RpcError.BUSY, -32000)


class Stopped(unittest.TestCase):
    def test_a_node_not_started_refuses_calls_and_publishes(self):
        n = zmesh.Node(name="idle")
        with self.assertRaises(RpcError) as e:
            n.call("x", timeout=0.1)
        self.assertEqual(e.exception.kind, "stopped")
        self.assertFalse(n.publish("t", 1))
        self.assertEqual(n.peers(), [])
        self.assertFalse(n.wait_for_peers(1, 0.01))
        n.stop()   # idempotent, also before start

    def test_bad_topics_methods_and_arguments_are_refused_before_the_wire(self):
        n = zmesh.Node(name="idle")
        for topic in ("", "x" * 256, "a\x00b"):
            with self.assertRaises(ValueError):
                n.publish(topic, 1)
        with self.assertRaises(ValueError):
            n.subscribe("a\x00", print)
        with self.assertRaises(ValueError):
            n.serve("", print)
        with self.assertRaises(TypeError):
            n.publish("t", object())
        self.assertEqual(n.call_future("", 1).exception().kind, "invalid")
        self.assertEqual(n.call_future("m", object()).exception().kind, "invalid")
        self.assertEqual(n.call_future("m", "x" * (2 << 20)).exception().kind, "invalid")


class RoutingIds(unittest.TestCase):
    def test_the_shapes_of_section_6_1(self):
        nid, tok = bytes(range(1, 17)), bytes(range(8))
        self.assertEqual(parse_routing_id(nid + tok), (nid, False, tok))
        self.assertEqual(parse_routing_id(nid + b"C" + tok), (nid, True, tok))
        self.assertEqual(parse_routing_id(nid), (nid, False, None))
        self.assertEqual(parse_routing_id(nid + b"C"), (nid, True, None))
        for rid in (b"\x00abcd", nid + b"X", nid + b"X" + tok, nid + tok + b"x"):
            self.assertIsNone(parse_routing_id(rid))


if __name__ == "__main__":
    unittest.main()
