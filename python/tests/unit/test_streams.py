# SPDX-License-Identifier: MPL-2.0
"""streams: the consumer rules of PROTOCOL.md §14.8 (sessions, dedup, held deliveries,
max_in_flight, stale settles, batches, END after the last SETTLE) on a Streams component
whose mesh, reactor and handler thread are stand-ins. No sockets."""

import types
import unittest

from zmesh import stream_wire as sw
from zmesh.core import COUNTERS
from zmesh.options import Options
from zmesh.peers import JOINED, Peer
from zmesh.streams import Streams

PUB = bytes(range(1, 17))


class Stage:
    """A Streams component with one joined publisher, recording what it sends and hands."""

    def __init__(self, max_in_flight=256):
        self.sent, self.handed = [], []
        self.peer = Peer(PUB, "pub", "tcp://h:1", "tcp://h:2", 1, 0.0)
        self.peer.state, self.peer.link_up = JOINED, True
        mesh = types.SimpleNamespace(peers={PUB: self.peer},
                                     send_frame=lambda p, f: self.sent.append(f) or True)
        delivery = types.SimpleNamespace(submit=lambda fn, msg, droppable=False: self.handed.append(msg))
        reactor = types.SimpleNamespace(post=lambda fn: fn())   # settles run at once
        self.core = types.SimpleNamespace(options=Options(), counters=dict.fromkeys(COUNTERS, 0),
                                          mesh=mesh, delivery=delivery, reactor=reactor)
        self.s = Streams(self.core)
        self.request = sw.Consume("orders", "billing", sw.START_FIRST, 0, 30000, 5, (0,), max_in_flight)
        self.s.consume(1, self.request, None)

    def answer(self, status=sw.STATUS_OK):
        self.s.on_frame(self.peer, sw.encode_answer(sw.Answer("orders", "billing", status, 1, 9, 0)))

    def deliver(self, seq, attempt):
        before = len(self.handed)
        self.s.on_frame(self.peer, sw.encode_deliver(
            sw.Deliver("orders", "billing", seq, attempt, 1, "", b"\x2a")))
        return self.handed[-1] if len(self.handed) > before else None

    def end_round(self):
        self.s.on_timer(0.0)

    def types_sent(self):
        return [f[1] for f in self.sent]

    @property
    def c(self):
        return self.core.counters


class Consumer(unittest.TestCase):
    def test_consume_is_sent_and_deliveries_wait_for_the_answer(self):
        st = Stage()
        self.assertEqual(st.sent, [sw.encode_consume(st.request)])
        self.assertIsNone(st.deliver(1, 1))
        self.assertEqual(st.c["stream_frames_invalid"], 1)
        st.answer()
        m = st.deliver(1, 1)
        self.assertEqual((m.seq, m.attempt, m.redelivered, m.payload, m.publisher), (1, 1, False, 42, PUB))

    def test_duplicates_are_dropped_and_a_higher_attempt_replaces_the_held_one(self):
        st = Stage()
        st.answer()
        first = st.deliver(5, 1)
        self.assertIsNone(st.deliver(5, 1))
        self.assertIsNone(st.deliver(3, 1))   # attempt 1 below the highest handed
        self.assertEqual(st.c["stream_duplicates_dropped"], 2)
        again = st.deliver(5, 2)
        self.assertTrue(again.redelivered)
        first.ack()   # its attempt is over
        self.assertEqual(st.c["stream_settles_stale"], 1)
        again.ack()
        again.ack()   # once only
        self.assertEqual(st.c["stream_settles_stale"], 2)
        self.assertTrue(st.deliver(3, 2).redelivered)

    def test_settles_of_a_round_go_in_one_settle_in_order(self):
        st = Stage()
        st.answer()
        msgs = [st.deliver(seq, 1) for seq in (1, 2, 3)]
        msgs[1].nak(0.5, "db down")
        msgs[0].in_progress()
        msgs[0].ack()
        msgs[2].term()
        st.sent.clear()
        st.end_round()
        self.assertEqual(len(st.sent), 1)
        self.assertEqual(sw.decode_settle(st.sent[0]).entries, (
            sw.SettleEntry(2, 1, sw.NAK, 500, "db down"), sw.SettleEntry(1, 1, sw.IN_PROGRESS),
            sw.SettleEntry(1, 1, sw.ACK), sw.SettleEntry(3, 1, sw.TERM)))

    def test_beyond_max_in_flight_is_dropped(self):
        st = Stage(max_in_flight=2)
        st.answer()
        a, _ = st.deliver(1, 1), st.deliver(2, 1)
        self.assertIsNone(st.deliver(3, 1))
        self.assertEqual(st.c["stream_overflow_dropped"], 1)
        a.ack()
        self.assertIsNotNone(st.deliver(3, 1))

    def test_a_lost_link_forgets_what_was_held_and_a_new_session_begins(self):
        st = Stage()
        st.answer()
        m = st.deliver(4, 1)
        st.s.on_link_lost(st.peer)
        m.ack()
        self.assertEqual(st.c["stream_settles_stale"], 1)
        self.assertIsNone(st.deliver(5, 1))   # no session until the link is back
        st.sent.clear()
        st.s.on_link_up(st.peer)
        self.assertEqual(st.types_sent(), [sw.CONSUME])
        st.answer()
        self.assertTrue(st.deliver(4, 1).redelivered)   # a restarted publisher's attempt 1
        self.assertFalse(st.deliver(6, 1).redelivered)

    def test_a_refused_consume_is_asked_again(self):
        st = Stage()
        st.answer(sw.STATUS_NO_STREAM)
        st.sent.clear()
        st.s.on_timer(1e12)
        self.assertEqual(st.types_sent(), [sw.CONSUME])

    def test_stop_sends_its_settles_then_end(self):
        st = Stage()
        st.answer()
        st.deliver(1, 1).ack()
        st.sent.clear()
        st.s.stop_consuming(1)
        self.assertEqual(st.types_sent(), [sw.SETTLE, sw.END])

    def test_malformed_frames_are_counted_never_raised(self):
        st = Stage()
        for f in (b"\x01\x32", b"\x01\x31\x90", b"\x01\x3f\x90", b"\x01\x33\x93\xa1s\xa1c\x90"):
            st.s.on_frame(st.peer, f)
        self.assertEqual(st.c["stream_frames_invalid"], 4)

    def test_a_consume_to_this_node_is_answered_no_stream(self):
        st = Stage()
        st.sent.clear()
        st.s.on_frame(st.peer, sw.encode_consume(st.request))
        self.assertEqual(sw.decode_answer(st.sent[0]).status, sw.STATUS_NO_STREAM)


if __name__ == "__main__":
    unittest.main()
