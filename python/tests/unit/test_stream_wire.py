# SPDX-License-Identifier: MPL-2.0
"""stream_wire: the frames of PROTOCOL.md §14.9 byte for byte, round trips, fields after the
known ones skipped, and malformed input (every truncated prefix, random bytes, oversize,
fields out of range or of another type) dropped as ProtocolError and nothing else."""

import os
import random
import unittest

import msgpack

from zmesh import stream_wire as sw
from zmesh.wire import ProtocolError


def h(text):
    return bytes.fromhex(text.replace(" ", "").replace("\n", ""))


CONSUME_14_9 = h("""01 30 99 a6 6f 72 64 65 72 73 a7 62 69 6c 6c 69 6e 67 01 00 cd 75 30 05 92 cd 03 e8
    cd 13 88 cd 01 00 00""")
ANSWER_14_9 = h("01 31 97 a6 6f 72 64 65 72 73 a7 62 69 6c 6c 69 6e 67 00 01 2a 11 00")
DELIVER_14_9 = h("""01 32 97 a6 6f 72 64 65 72 73 a7 62 69 6c 6c 69 6e 67 12 01 cf 00 06 0a 24 18 1e 40
    00 a3 63 2d 37 c4 05 81 a2 69 64 2a""")
SETTLE_14_9 = h("""01 33 93 a6 6f 72 64 65 72 73 a7 62 69 6c 6c 69 6e 67 92 95 12 01 00 00 a0 95 13 02
    01 cd 01 f4 a7 64 62 20 64 6f 77 6e""")
END_14_9 = h("01 34 92 a6 6f 72 64 65 72 73 a7 62 69 6c 6c 69 6e 67")

CONSUME = sw.Consume("orders", "billing", sw.START_FIRST, 0, 30000, 5, (1000, 5000), 256)
ANSWER = sw.Answer("orders", "billing", sw.STATUS_OK, 1, 42, 17)
DELIVER = sw.Deliver("orders", "billing", 18, 1, 1700000000000000, "c-7", msgpack.packb({"id": 42}))
ENTRIES = (sw.SettleEntry(18, 1, sw.ACK), sw.SettleEntry(19, 2, sw.NAK, 500, "db down"))
MAX = 1 << 20


def decode(frame):
    """Any stream frame, as a receiver dispatches it by type."""
    t = frame[1] if len(frame) > 1 else None
    if t == sw.CONSUME:
        return sw.decode_consume(frame)
    if t == sw.ANSWER:
        return sw.decode_answer(frame)
    if t == sw.DELIVER:
        return sw.decode_deliver(frame, MAX)
    if t == sw.SETTLE:
        return sw.decode_settle(frame)
    return sw.decode_end(frame)


def frame(msg_type, fields):
    return bytes([1, msg_type]) + msgpack.packb(fields, use_bin_type=True)


class WorkedExample(unittest.TestCase):
    def test_every_frame_is_the_worked_example_byte_for_byte(self):
        self.assertEqual(sw.encode_consume(CONSUME), CONSUME_14_9)
        self.assertEqual(sw.encode_answer(ANSWER), ANSWER_14_9)
        self.assertEqual(sw.encode_deliver(DELIVER), DELIVER_14_9)
        self.assertEqual(len(DELIVER_14_9), 40)
        self.assertEqual(sw.encode_settle("orders", "billing", ENTRIES), SETTLE_14_9)
        self.assertEqual(len(SETTLE_14_9), 40)
        self.assertEqual(sw.encode_end("orders", "billing"), END_14_9)

    def test_the_worked_example_decodes_to_its_fields(self):
        self.assertEqual(sw.decode_consume(CONSUME_14_9), CONSUME)
        self.assertEqual(sw.decode_answer(ANSWER_14_9), ANSWER)
        self.assertEqual(sw.decode_deliver(DELIVER_14_9, MAX), DELIVER)
        self.assertEqual(msgpack.unpackb(sw.decode_deliver(DELIVER_14_9, MAX).payload), {"id": 42})
        self.assertEqual(sw.decode_settle(SETTLE_14_9), sw.Settle("orders", "billing", ENTRIES))
        self.assertEqual(sw.decode_end(END_14_9), sw.End("orders", "billing"))


class RoundTrip(unittest.TestCase):
    def test_random_frames_round_trip(self):
        rng = random.Random(14)
        name = lambda: "".join(rng.choice("abcé.-_") for _ in range(rng.randint(1, 80)))
        for _ in range(300):
            c = sw.Consume(name(), name(), rng.randint(0, 3), rng.getrandbits(64),
                           rng.randint(1, sw.MAX_STREAM_WAIT_MS), rng.randint(1, 10000),
                           tuple(rng.randint(0, sw.MAX_STREAM_WAIT_MS) for _ in range(rng.randint(0, 64))),
                           rng.randint(1, 65536), rng.randint(0, 1))
            self.assertEqual(sw.decode_consume(sw.encode_consume(c)), c)
            a = sw.Answer(name(), name(), rng.randint(0, 255), rng.getrandbits(64),
                          rng.getrandbits(64), rng.getrandbits(64), rng.randint(0, 255))
            self.assertEqual(sw.decode_answer(sw.encode_answer(a)), a)
            d = sw.Deliver(name(), name(), rng.randint(1, (1 << 64) - 1), rng.randint(1, (1 << 32) - 1),
                           rng.getrandbits(64), name()[:rng.randint(0, 80)], os.urandom(rng.randint(0, 300)))
            self.assertEqual(sw.decode_deliver(sw.encode_deliver(d), 300), d)
            entries = tuple(sw.SettleEntry(rng.randint(1, 1 << 40), rng.randint(1, 1 << 20),
                                           rng.randint(0, 3), rng.randint(0, 1 << 20), name()[:50])
                            for _ in range(rng.randint(1, 256)))
            s = sw.Settle(name(), name(), entries)
            self.assertEqual(sw.decode_settle(sw.encode_settle(*s)), s)

    def test_the_longest_settle_fits_a_control_frame(self):
        entry = sw.SettleEntry((1 << 64) - 1, (1 << 32) - 1, sw.NAK, sw.MAX_STREAM_WAIT_MS, "x" * 512)
        f = sw.encode_settle("s" * 255, "c" * 255, [entry] * 256)
        self.assertLessEqual(len(f), 262144)
        self.assertEqual(len(sw.decode_settle(f).entries), 256)

    def test_fields_after_the_known_ones_are_skipped(self):
        self.assertEqual(sw.decode_answer(frame(sw.ANSWER, list(ANSWER) + [{"future": [1, 2]}, "x"])), ANSWER)
        entries = [list(e) + ["later"] for e in ENTRIES]
        self.assertEqual(sw.decode_settle(frame(sw.SETTLE, ["orders", "billing", entries, 7])).entries,
                         ENTRIES)
        self.assertEqual(sw.decode_end(frame(sw.END, ["orders", "billing", None])), sw.End("orders", "billing"))


class Malformed(unittest.TestCase):
    def assertDropped(self, f, msg=None):
        with self.assertRaises(ProtocolError, msg=msg):
            decode(f)

    def test_every_truncated_prefix_is_dropped(self):
        for full in (CONSUME_14_9, ANSWER_14_9, DELIVER_14_9, SETTLE_14_9, END_14_9):
            for n in range(len(full)):
                self.assertDropped(full[:n], f"{full[:n].hex(' ')}")

    def test_trailing_bytes_and_wrong_version_are_dropped(self):
        for full in (CONSUME_14_9, ANSWER_14_9, DELIVER_14_9, SETTLE_14_9, END_14_9):
            self.assertDropped(full + b"\xc0")
            self.assertDropped(b"\x02" + full[1:])
        with self.assertRaises(ProtocolError) as e:
            sw.decode_end(b"\x02" + END_14_9[1:])
        self.assertEqual(e.exception.counter, "frames_bad_version")

    def test_random_bytes_never_raise_anything_else(self):
        rng = random.Random(33)
        for _ in range(3000):
            t = rng.randint(0x30, 0x34)
            body = bytes(rng.getrandbits(8) for _ in range(rng.randint(0, 60)))
            try:
                decode(bytes([1, t]) + body)
            except ProtocolError:
                pass

    def test_every_field_out_of_range_or_of_another_type_is_dropped(self):
        good = list(msgpack.unpackb(CONSUME_14_9[2:]))
        for i, bad in [(0, ""), (0, "s" * 256), (1, b"billing"), (2, 4), (3, -1), (4, 0),
                       (4, sw.MAX_STREAM_WAIT_MS + 1), (5, 0), (5, 10001), (6, [1] * 65),
                       (6, [sw.MAX_STREAM_WAIT_MS + 1]), (6, 5), (7, 0), (7, 65537), (7, True),
                       (8, 2), (8, -1), (8, True)]:
            self.assertDropped(frame(sw.CONSUME, good[:i] + [bad] + good[i + 1:]), f"CONSUME {i}={bad!r}")
        self.assertDropped(frame(sw.CONSUME, good[:7]), "CONSUME missing a field")
        self.assertEqual(sw.decode_consume(frame(sw.CONSUME, good[:8])).order, sw.ORDER_NONE)   # revision 10's
        good = list(ANSWER)
        for i, bad in [(0, ""), (2, 256), (3, -1), (5, 1.0), (6, 256), (6, -1)]:
            self.assertDropped(frame(sw.ANSWER, good[:i] + [bad] + good[i + 1:]), f"ANSWER {i}={bad!r}")
        good = list(DELIVER)
        for i, bad in [(1, ""), (2, 0), (3, 0), (3, 1 << 32), (4, -5), (5, "k" * 256), (5, None),
                       (6, "not bin")]:
            self.assertDropped(frame(sw.DELIVER, good[:i] + [bad] + good[i + 1:]), f"DELIVER {i}={bad!r}")
        good = [list(e) for e in ENTRIES]
        for bad in [[], [[18, 1, 0, 0]], [[0, 1, 0, 0, ""]], [[18, 0, 0, 0, ""]], [[18, 1, 4, 0, ""]],
                    [[18, 1, 1, sw.MAX_STREAM_WAIT_MS + 1, ""]], [[18, 1, 1, 0, "e" * 513]],
                    [good[0]] * 257, [5], {"a": 1}]:
            self.assertDropped(frame(sw.SETTLE, ["orders", "billing", bad]), f"SETTLE {str(bad)[:40]}")
        self.assertDropped(frame(sw.END, ["orders"]))
        self.assertDropped(frame(sw.END, "orders billing"))

    def test_oversize_frames_are_dropped(self):
        payload = msgpack.packb(b"x" * 100)
        big = sw.encode_deliver(DELIVER._replace(payload=payload))
        self.assertEqual(sw.decode_deliver(big, len(payload)).payload, payload)
        with self.assertRaises(ProtocolError):
            sw.decode_deliver(big, len(payload) - 1)   # over the receiver's max_event_size
        padded = frame(sw.DELIVER, list(DELIVER) + ["p" * 1100])   # overhead over 1024 bytes
        with self.assertRaises(ProtocolError):
            sw.decode_deliver(padded, MAX)
        with self.assertRaises(ProtocolError):
            sw.decode_end(frame(sw.END, ["orders", "billing", "x" * 262144]))

    def test_encoders_refuse_what_a_receiver_would_drop(self):
        for bad in [CONSUME._replace(stream=""), CONSUME._replace(ack_wait_ms=0),
                    CONSUME._replace(backoff_ms=(0,) * 65), CONSUME._replace(max_in_flight=65537)]:
            with self.assertRaises(ValueError):
                sw.encode_consume(bad)
        with self.assertRaises(ValueError):
            sw.encode_settle("orders", "billing", [])
        with self.assertRaises(ValueError):
            sw.encode_deliver(DELIVER._replace(key="k" * 256))


if __name__ == "__main__":
    unittest.main()
