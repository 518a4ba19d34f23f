#!/usr/bin/python3
# SPDX-License-Identifier: MPL-2.0
"""Interop: the Python package (python/zmesh, written from PROTOCOL.md) against real C++
processes joined by seed: events both ways, RPC both ways with every error kind, and
liveness (kill -9, SIGSTOP, SIGTERM, a Python node's LEAVE).

usage: /usr/bin/python3 tests/interop/interop_test.py BUILD/bin [unittest args]

Everything stays on this host: C++ tools get --interface lo --bind 127.0.0.1
--beacon-interval 0 and join by seed; the Python nodes have no beacon socket either.
"""

import json
import os
import signal
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import support  # noqa: E402
from support import STEP, MeshCase, free_tcp_port, wait_for, zmesh  # noqa: E402

EXPIRED = 3.0   # the expired timeout (§8.3, Appendix A)


class BySeed(MeshCase):
    def seed_node(self, *serve):
        """A zmesh-node on a fixed ROUTER port, serving the given built-in methods."""
        self.port = free_tcp_port()
        self.seed = f"tcp://127.0.0.1:{self.port}"
        args = ["--router-port", self.port]
        for m in serve:
            args += ["--serve", m]
        return self.cxx_node("cxx-node", *args)

    def test_events_and_rpc_both_ways(self):
        cxx = self.seed_node("echo", "stats")
        py = self.py_node("py-node", seeds=[self.seed])
        py.serve("py.add", lambda args: args[0] + args[1])
        py.serve("py.refuse", lambda args: (_ for _ in ()).throw(zmesh.RpcError(409, "out of stock")))
        py.serve("py.crash", lambda args: 1 / 0)
        got = []
        py.subscribe("interop.", got.append)
        peer = self.joined(py, "cxx-node")
        cxx.wait_line(rf"^joined py-node {py.id_hex}\b")

        # The monitor (an observer) lists the Python node with its methods (HELLO),
        # prefixes (SUBS) and counters (STATS). With no beacons `--once` may settle before
        # its seed answered: a run that saw no member at all is tried again.
        for attempt in range(3):
            mon = self.run_cxx(f"monitor{attempt}", "zmesh-monitor", *self.local(), "--seed",
                               self.seed, "--once", "--json", "--wait", "8")
            self.assertEqual(mon.wait_exit(STEP + 8), 0)
            doc = json.loads(mon.lines()[-1])
            if any(p["id"] == peer.id_hex for p in doc["peers"]):
                break
        me = next(p for p in doc["peers"] if p["id"] == py.id_hex)
        self.assertEqual((me["name"], me["state"]), ("py-node", "joined"))
        self.assertEqual(me["services"], ["py.add", "py.crash", "py.refuse"])
        self.assertEqual(me["subscriptions"], ["interop."])
        self.assertIsNotNone(me["counters"])
        self.assertIn("events_out", me["counters"])

        # Events C++ -> Python: `zmesh pub` waits until the member subscribed to the topic (the
        # Python node) has said so in SUBS.
        payload = {"hello": "from C++", "list": [1, 2.5, None, True]}
        pub = self.run_cxx("pub", "zmesh", "pub", *self.local(), "--seed", self.seed, "--name",
                           "cxx-pub", "--wait-peers", "1", "--wait", "20", "--count", "5", "interop.from-cxx",
                           json.dumps(payload))
        self.assertEqual(pub.wait_exit(), 0)
        self.assertTrue(wait_for(lambda: len(got) >= 5), f"got {got}")
        self.assertEqual([e.seq for e in got], [1, 2, 3, 4, 5])
        for e in got:
            self.assertEqual((e.topic, e.payload, e.sender_name), ("interop.from-cxx", payload, "cxx-pub"))

        # Events Python -> C++: published once the subscriber's SUBS covers the topic.
        sub = self.run_cxx("sub", "zmesh", "sub", *self.local(), "--seed", self.seed, "--name",
                           "cxx-sub", "--json", "--count", "3", "--timeout", "20", "interop.from-py")
        self.assertTrue(py.wait_for_subscribers("interop.from-py", 1, STEP))
        sent = [{"n": i, "text": "from Python", "bin": b"\x00\xff"} for i in (1, 2, 3)]
        for pl in sent:
            self.assertTrue(py.publish("interop.from-py", pl))
        self.assertEqual(sub.wait_exit(), 0)
        lines = [json.loads(x) for x in sub.lines()]
        self.assertEqual([x["seq"] for x in lines], [1, 2, 3])
        for x, pl in zip(lines, sent):
            self.assertEqual((x["topic"], x["sender"]["id"], x["sender"]["name"], x["payload"]["n"]),
                             ("interop.from-py", py.id_hex, "py-node", pl["n"]))

        # Python calls C++: a result, and each error kind the caller decides or is told.
        args = {"text": "ping", "n": [1, -2, 3.25, None, False], "nested": {"k": "v"}}
        self.assertEqual(py.call("echo", args, timeout=3.0), args)
        self.assertEqual(py.call("echo", "by name", peer="cxx-node"), "by name")
        self.assertEqual(py.call("echo", "by id", peer=peer.id), "by id")
        with self.assertRaises(zmesh.RpcError) as e:
            py.call("no.such.method", 1, peer=peer.id)
        self.assertEqual((e.exception.kind, e.exception.code), (zmesh.ErrorKind.REMOTE, -32601))
        with self.assertRaises(zmesh.RpcError) as e:
            py.call("no.such.method", 1)
        self.assertEqual(e.exception.kind, "no_provider")
        with self.assertRaises(zmesh.RpcError) as e:
            py.call("echo", 1, peer="nobody")
        self.assertEqual(e.exception.kind, "no_provider")
        with self.assertRaises(zmesh.RpcError) as e:
            py.call("", 1)
        self.assertEqual(e.exception.kind, "invalid")

        # C++ calls Python: a result, an application error and a handler that failed.
        def zmesh_call(label, *call_args):
            c = self.run_cxx(label, "zmesh", "call", *self.local(), "--seed", self.seed,
                             "--name", label, "--timeout", "3000", *call_args)
            status = c.wait_exit()
            with open(c.err_path) as f:
                return status, "\n".join(c.lines()), f.read()
        status, out, err = zmesh_call("call-add", "py.add", "[2, 40]")
        self.assertEqual((status, out), (0, "42"), err)
        status, _, err = zmesh_call("call-refuse", "py.refuse", "null")
        self.assertEqual((status, err.strip()), (1, "remote: code 409: out of stock"))
        status, _, err = zmesh_call("call-crash", "py.crash", "null")
        self.assertEqual(status, 1)
        self.assertIn("remote: code -32603: ZeroDivisionError", err)

        # Nothing the Python node sent was dropped by the C++ node as malformed or unproven.
        # (Its seed probes, which quote no token, are counted in hellos_unverified, as a C++
        # node's are: a probe is no link, §7.5.)
        stats = py.call("stats", None, peer=peer.id)
        bad = {k: stats[k] for k in ("frames_invalid", "frames_bad_version", "frames_unknown_type",
                                     "frames_unknown_sender", "frames_wrong_link", "events_invalid",
                                     "events_unknown_sender", "leaves_unverified",
                                     "handshake_timeouts")}
        self.assertFalse(any(bad.values()), bad)
        mine = py.stats()
        self.assertEqual({k: mine[k] for k in bad if k in mine and mine[k]}, {})
        print(f"  ok: 5 events in, {len(sent)} out; calls both ways; C++ counters {bad}")

    def test_a_full_python_server_is_busy_to_a_cxx_caller(self):
        # The Python server's busy reply carries the code C++ reads as rpc_errc::busy.
        self.seed_node("echo")
        server = self.py_node("py-server", seeds=[self.seed], rpc_queue=1)
        entered, gate = threading.Event(), threading.Event()
        server.serve("py.wait", lambda args: (entered.set(), gate.wait(STEP))[1])
        caller = self.py_node("py-caller", seeds=[self.seed])
        try:
            self.assertTrue(caller.wait_for_provider("py.wait", STEP))
            running = caller.call_future("py.wait", timeout=STEP + 10)
            self.assertTrue(entered.wait(STEP))
            # One link keeps them in order: the first waits in the queue of one, so the
            # second finds it full, and it stays full until the gate opens.
            queued = caller.call_future("py.wait", timeout=STEP + 10)
            with self.assertRaises(zmesh.RpcError) as e:
                caller.call("py.wait", timeout=STEP)
            self.assertEqual((e.exception.kind, e.exception.code), (zmesh.ErrorKind.BUSY, -32000))
            c = self.run_cxx("call-busy", "zmesh", "call", *self.local(), "--seed", self.seed,
                             "--name", "call-busy", "--timeout", "3000", "py.wait", "null")
            status = c.wait_exit()
            with open(c.err_path) as f:
                err = f.read()
            self.assertEqual((status, err.strip()), (1, "busy: server busy"))
            self.assertEqual(server.stats()["rpc_busy"], 2)
        finally:
            gate.set()
        self.assertTrue(running.result(STEP))
        self.assertTrue(queued.result(STEP))
        print("  ok: a full Python server is busy (-32000) to Python and C++ callers")

    def test_timeout_and_peer_lost(self):
        cxx = self.seed_node("echo")
        py = self.py_node("py-node", seeds=[self.seed])
        self.joined(py, "cxx-node")
        # A frozen server does not answer: the call times out, and nothing else fails.
        cxx.freeze()
        t0 = time.monotonic()
        with self.assertRaises(zmesh.RpcError) as e:
            py.call("echo", 1, timeout=0.3)
        self.assertEqual(e.exception.kind, "timeout")
        self.assertLess(time.monotonic() - t0, 2.0)
        # A call pending when its server dies fails at once (peer_lost), not at its timeout.
        started = py.stats()["rpc_calls"]
        future = py.call_future("echo", 2, timeout=30.0)
        self.assertTrue(wait_for(lambda: py.stats()["rpc_calls"] > started))   # it is pending
        cxx.signal(signal.SIGKILL)
        t0 = time.monotonic()
        with self.assertRaises(zmesh.RpcError) as e:
            future.result(EXPIRED + 5)
        self.assertEqual(e.exception.kind, "peer_lost")
        elapsed = time.monotonic() - t0
        self.assertLess(elapsed, EXPIRED + 1)
        print(f"  ok: timeout after 0.3 s; peer_lost {elapsed * 1000:.0f} ms after kill -9")

    def test_liveness_both_ways(self):
        cxx = self.seed_node("echo")
        events = []
        py = zmesh.Node(name="py-node", mesh=self.mesh, interface="lo", bind="127.0.0.1",
                        beacon_interval=0, seeds=[self.seed])
        py.on_peer_event(events.append)
        self.nodes.append(py)
        py.start()
        self.joined(py, "cxx-node")
        cxx.wait_line(rf"^joined py-node {py.id_hex}\b")

        # A Python node that stops says so (LEAVE with the C++ node's token): left at once.
        other = self.py_node("py-leaver", seeds=[self.seed])
        cxx.wait_line(rf"^joined py-leaver {other.id_hex}\b")
        self.joined(other, "cxx-node")   # else it has no one to tell
        other.stop()
        cxx.wait_line(rf"^left py-leaver {other.id_hex} leave$", 2.0)

        # SIGTERM: the C++ node's LEAVE quotes our token, so it is believed.
        second = self.cxx_node("cxx-second", "--seed", self.seed)
        self.joined(py, "cxx-second")
        second.wait_line(rf"^joined py-node {py.id_hex}\b")   # else it has no token of ours
        second.stop()
        self.assertTrue(wait_for(lambda: any(e.kind == "left" and e.name == "cxx-second" for e in events), 2.0))
        left = next(e for e in events if e.kind == "left" and e.name == "cxx-second")
        self.assertEqual(left.reason, "leave")

        # kill -9: no LEAVE; the link drops and the reconnect is refused.
        cxx.signal(signal.SIGKILL)
        t0 = time.monotonic()
        self.assertTrue(wait_for(lambda: any(e.kind == "left" and e.name == "cxx-node" for e in events),
                                 EXPIRED + 2), f"events {events}")
        elapsed = time.monotonic() - t0
        self.assertLessEqual(elapsed, EXPIRED + 0.5)
        reason = next(e.reason for e in events if e.kind == "left" and e.name == "cxx-node")
        self.assertIn(reason, ("disconnected", "expired"))
        self.assertEqual([e.kind for e in events if e.name == "cxx-node"][0], "joined")
        print(f"  ok: LEAVE both ways; kill -9 seen left ({reason}) after {elapsed * 1000:.0f} ms")


if __name__ == "__main__":
    support.main()
