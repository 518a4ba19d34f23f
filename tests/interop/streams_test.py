#!/usr/bin/python3
# SPDX-License-Identifier: MPL-2.0
"""Interop: the Python node's durable consumer (python/zmesh/streams.py, written from
PROTOCOL.md §14) against a C++ publisher, zmesh-interop-stream-node: acks, a nak's second
attempt, a poison message that ends in the publisher's dead letters, the messages a stopped
consumer held going to the next one, and a Python and a C++ consumer sharing one name.

usage: /usr/bin/python3 tests/interop/streams_test.py BUILD/bin [unittest args]

Everything stays on this host: the C++ programs get --interface lo --bind 127.0.0.1
--beacon-interval 0 and the nodes join by seed.
"""

import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import support  # noqa: E402
from support import STEP, MeshCase, free_tcp_port, wait_for  # noqa: E402

PROGRAM = "zmesh-interop-stream-node"


class Received:
    """What a consumer's handler was handed, for the test thread."""

    def __init__(self):
        self._lock = threading.Lock()
        self.messages = []   # (seq, attempt, redelivered, payload)

    def add(self, m):
        with self._lock:
            self.messages.append((m.seq, m.attempt, m.redelivered, m.payload))

    def snapshot(self):
        with self._lock:
            return list(self.messages)

    def seqs(self):
        return {m[0] for m in self.snapshot()}


class Streams(MeshCase):
    def publisher(self, *streams):
        """The C++ publisher on a fixed ROUTER port, its streams stored before it returns."""
        port = free_tcp_port()
        self.seed = f"tcp://127.0.0.1:{port}"
        args = ["--name", "cxx-pub", *self.local(), "--router-port", port,
                "--data-dir", os.path.join(self.dir, "pub")]
        for name, count in streams:
            args += ["--stream", f"{name}:{count}"]
        p = self.run_cxx("cxx-pub", PROGRAM, *args)
        for name, count in streams:
            p.wait_line(rf"^stored {name} {count}$")
        return p

    def consumer_node(self, name):
        py = self.py_node(name, seeds=[self.seed])
        self.pub_id = self.joined(py, "cxx-pub").id
        return py

    def stored(self, py):
        """The publisher's streams as its log holds them: name -> [first, last, messages]."""
        return py.call("streams", peer=self.pub_id, timeout=STEP)

    def test_acks_every_message_once_at_attempt_1(self):
        self.publisher(("orders", 50))
        py = self.consumer_node("py-consumer")
        got = Received()

        def handle(m):
            got.add(m)
            m.ack()
        py.consume("orders", "all", handle, start="first")
        self.assertTrue(wait_for(lambda: len(got.seqs()) == 50), f"got {sorted(got.seqs())}")
        time.sleep(0.5)   # nothing more comes: every ack was taken
        msgs = got.snapshot()
        self.assertEqual(sorted(m[0] for m in msgs), list(range(1, 51)))
        self.assertTrue(all(m[1] == 1 and not m[2] for m in msgs), msgs)
        self.assertEqual({m[0]: m[3] for m in msgs}, {i: i for i in range(1, 51)})
        self.assertTrue(wait_for(lambda: py.stats()["stream_settles_sent"] == 50))
        self.assertEqual(py.stats()["stream_frames_invalid"], 0)

    def test_a_nak_brings_attempt_2(self):
        self.publisher(("orders", 5))
        py = self.consumer_node("py-consumer")
        got = Received()

        def handle(m):
            got.add(m)
            if m.seq == 3 and m.attempt == 1:
                m.nak(0.1, "not yet")
            else:
                m.ack()
        py.consume("orders", "naker", handle, start="first")
        self.assertTrue(wait_for(lambda: (3, 2, True, 3) in got.snapshot()), got.snapshot())
        time.sleep(0.5)
        self.assertEqual(sorted(got.snapshot()),
                         [(1, 1, False, 1), (2, 1, False, 2), (3, 1, False, 3), (3, 2, True, 3),
                          (4, 1, False, 4), (5, 1, False, 5)])

    def test_a_poison_message_ends_in_the_dead_letters(self):
        self.publisher(("poison", 1))
        py = self.consumer_node("py-consumer")
        got = Received()

        def handle(m):
            got.add(m)
            m.nak(0, "poison")
        py.consume("poison", "eater", handle, start="first", max_deliveries=3)
        dlq = lambda: self.stored(py).get("poison.dlq", [0, 0, 0])[2] == 1
        self.assertTrue(wait_for(dlq), self.stored(py))
        self.assertEqual([(m[0], m[1]) for m in got.snapshot()], [(1, 1), (1, 2), (1, 3)])
        time.sleep(0.5)
        self.assertEqual(len(got.snapshot()), 3)   # never a fourth attempt

    def test_what_a_stopped_consumer_held_goes_to_the_next_as_redeliveries(self):
        self.publisher(("orders", 20))
        first = self.consumer_node("py-first")
        held = Received()
        first.consume("orders", "shared", held.add, start="first", max_in_flight=5)
        self.assertTrue(wait_for(lambda: len(held.seqs()) == 5), held.snapshot())
        time.sleep(0.3)   # max_in_flight holds: nothing beyond the five
        self.assertEqual(held.seqs(), {1, 2, 3, 4, 5})
        first.stop()   # END, then LEAVE, without a settle

        second = self.consumer_node("py-second")
        got = Received()

        def handle(m):
            got.add(m)
            m.ack()
        second.consume("orders", "shared", handle)
        self.assertTrue(wait_for(lambda: len(got.seqs()) == 20), sorted(got.seqs()))
        by_seq = {m[0]: m for m in got.snapshot()}
        for seq in range(1, 6):
            self.assertEqual(by_seq[seq][1:3], (2, True), by_seq[seq])
        for seq in range(6, 21):
            self.assertEqual(by_seq[seq][1:3], (1, False), by_seq[seq])

    def test_a_python_and_a_cxx_consumer_share_one_name(self):
        self.publisher(("work", 200))
        cxx = self.run_cxx("cxx-consumer", PROGRAM, "--name", "cxx-consumer", *self.local(),
                           "--seed", self.seed, "--consume", "work:team", "--work-ms", "5",
                           "--max-in-flight", "10")
        py = self.consumer_node("py-consumer")
        self.joined(py, "cxx-consumer")
        got = Received()

        def handle(m):
            time.sleep(0.005)
            got.add(m)
            m.ack()
        py.consume("work", "team", handle, start="first", max_in_flight=10)
        cxx_seqs = lambda: {int(line.split()[1]) for line in cxx.lines() if line.startswith("got ")}
        everything = lambda: got.seqs() | cxx_seqs() == set(range(1, 201))
        self.assertTrue(wait_for(everything, 3 * STEP),
                        f"python {len(got.seqs())}, C++ {len(cxx_seqs())}")
        self.assertGreater(len(got.seqs()), 0)
        self.assertGreater(len(cxx_seqs()), 0)
        print(f"python consumed {len(got.seqs())}, C++ {len(cxx_seqs())}")
        # Each record's first attempt went to one member: one acked it, none saw it again.
        cxx_lines = [line.split() for line in cxx.lines() if line.startswith("got ")]
        attempts = [(m[0], m[1]) for m in got.snapshot()] + [(int(x[1]), int(x[2])) for x in cxx_lines]
        self.assertEqual(len(attempts), len(set(attempts)))
        self.assertTrue(all(a == 1 for _, a in attempts), attempts)


    def test_the_reserved_methods_list_its_streams_and_refuse_writes(self):
        """PROTOCOL.md §15 from Python: a call on the named member, as any call; this
        publisher does not allow writes (no stream_admin)."""
        self.publisher(("orders", 5))
        py = self.consumer_node("py-admin")
        listed = py.call("zmesh.streams", None, peer=self.pub_id, timeout=STEP)
        streams = {s["name"]: s for s in listed["streams"]}
        self.assertEqual(streams["orders"]["last_seq"], 5)
        self.assertEqual(streams["orders"]["messages"], 5)
        self.assertIsNone(listed["more"])
        page = py.call("zmesh.dlq.ls", {"stream": "orders"}, peer=self.pub_id, timeout=STEP)
        self.assertEqual(page["dead_letters"], [])
        with self.assertRaises(support.zmesh.RpcError) as refused:
            py.call("zmesh.stream.rm", {"name": "orders"}, peer=self.pub_id, timeout=STEP)
        self.assertEqual(refused.exception.code, -32012)
        with self.assertRaises(support.zmesh.RpcError) as bad:
            py.call("zmesh.dlq.ls", {"stream": "orders", "max": 0}, peer=self.pub_id, timeout=STEP)
        self.assertEqual(bad.exception.code, -32602)


if __name__ == "__main__":
    support.main()
