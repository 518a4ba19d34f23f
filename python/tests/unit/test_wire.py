# SPDX-License-Identifier: MPL-2.0
"""wire: every frame of PROTOCOL.md §13 byte for byte, round trips, and malformed input
(every truncated prefix, random bytes, oversize, wrong encodings) dropped as ProtocolError
and nothing else. No sockets."""

import os
import random
import unittest

import msgpack

from zmesh import wire
from zmesh.wire import ProtocolError

ALPHA = bytes.fromhex("3f9a1c7e5b2d4e8f9a0b1c2d3e4f5061")
BETA = bytes.fromhex("00112233445566778899aabbccddeeff")


def h(text):
    return bytes.fromhex(text.replace(" ", "").replace("\n", ""))


HELLO_13_2 = h("""01 01 99 a7 64 65 66 61 75 6c 74 c4 10 3f 9a 1c 7e 5b 2d 4e 8f 9a 0b 1c 2d 3e 4f
    50 61 a5 61 6c 70 68 61 b8 74 63 70 3a 2f 2f 31 39 32 2e 31 36 38 2e 31 2e 32 30 3a 34 30 31
    32 33 b8 74 63 70 3a 2f 2f 31 39 32 2e 31 36 38 2e 31 2e 32 30 3a 34 30 31 32 34 06 90
    cf 01 23 45 67 89 ab cd ef 00""")
EVENT_13_4 = h("""6f 72 64 65 72 73 2e 63 72 65 61 74 65 64 00 01 20 93 c4 10 3f 9a 1c 7e 5b 2d 4e 8f
    9a 0b 1c 2d 3e 4f 50 61 cf 00 00 00 00 00 00 00 01 cf 00 06 0a 24 18 1e 40 00 81 a2 69 64 2a""")
REQUEST_13_5 = h("01 10 93 cf 00 00 00 01 00 00 00 00 a4 65 63 68 6f cd 01 f4 a2 68 69")
REPLY_FILLER_13_5 = h("01 11 94 cf 00 00 00 01 00 00 00 00 00 a0 c4 04 6f cd 01 f4 a2 68 69")
REPLY_13_5 = h("01 11 93 cf 00 00 00 01 00 00 00 00 00 a0 a2 68 69")
REPLY_NOPE_13_5 = h("""01 11 93 cf 00 00 00 02 00 00 00 00 d1 80 a7 b0 6e 6f 20 6d 65 74 68 6f 64 20
    27 6e 6f 70 65 27 c0""")


class Control(unittest.TestCase):
    def test_hello_is_the_worked_example_byte_for_byte(self):
        frame = wire.encode_hello("default", ALPHA, "alpha", "tcp://192.168.1.20:40123",
                                  "tcp://192.168.1.20:40124", 0x06, [], 0x0123456789abcdef, 0)
        self.assertEqual(frame, HELLO_13_2)
        t, body = wire.decode_control(frame)
        hello = wire.check_hello(body)
        self.assertEqual((t, hello.id, hello.name, hello.token, hello.echo),
                         (wire.HELLO, ALPHA, "alpha", 0x0123456789abcdef, 0))

    def test_hello_services_are_sorted_and_deduplicated(self):
        frame = wire.encode_hello("m", ALPHA, "a", "tcp://h:1", "tcp://h:2", 4,
                                  ["time", "echo", "time"], 1, 2)
        self.assertEqual(wire.check_hello(wire.decode_control(frame)[1]).services, ("echo", "time"))
        body = wire.decode_control(frame)[1]
        body[6] = ["b", "a", "b"]   # a sender that did not sort: the receiver does
        self.assertEqual(wire.check_hello(body).services, ("a", "b"))

    def test_hello_of_revision_7_has_no_tokens(self):
        body = wire.decode_control(wire.encode_control(
            wire.HELLO, ["m", ALPHA, "a", "tcp://h:1", "tcp://h:2", 0, []]))[1]
        self.assertEqual((wire.check_hello(body).token, wire.check_hello(body).echo), (0, 0))

    def test_other_control_messages_are_the_worked_examples(self):
        cases = [
            (wire.PING, [1234567890123], "01 02 91 cf 00 00 01 1f 71 fb 04 cb"),
            (wire.PONG, [1234567890123], "01 03 91 cf 00 00 01 1f 71 fb 04 cb"),
            (wire.LEAVE, [0x0fedcba987654321], "01 04 91 cf 0f ed cb a9 87 65 43 21"),
            (wire.LEAVE, [0], "01 04 91 00"),
            (wire.SUBS, [["metrics", "orders."]],
             "01 06 91 92 a7 6d 65 74 72 69 63 73 a7 6f 72 64 65 72 73 2e"),
            (wire.SUBS, [[]], "01 06 91 90"),
            (wire.SUBS, [[""]], "01 06 91 91 a0"),
            (wire.STATS_QUERY, [], "01 07 90"),
            (wire.STATS, [{"events_out": 10, "events_gaps": 0}],
             "01 08 91 82 aa 65 76 65 6e 74 73 5f 6f 75 74 0a ab 65 76 65 6e 74 73 5f 67 61 70 73 00"),
        ]
        for t, fields, text in cases:
            with self.subTest(t=t, fields=fields):
                self.assertEqual(wire.encode_control(t, fields), h(text))
                self.assertEqual(wire.decode_control(h(text)), (t, fields))

    def test_peers_entry_is_the_worked_example(self):
        frame = wire.encode_control(wire.PEERS, [[[BETA, "beta", "tcp://10.0.0.7:5001",
                                                   "tcp://10.0.0.7:5002"]]])
        self.assertEqual(frame[:23], h("01 05 91 91 94 c4 10 00 11 22 33 44 55 66 77 88 99 aa bb cc dd ee ff"))
        self.assertEqual(wire.check_peers(wire.decode_control(frame)[1]),
                         [(BETA, "beta", "tcp://10.0.0.7:5001", "tcp://10.0.0.7:5002")])

    def test_the_decoder_names_the_counter_of_each_failure(self):
        def counter(frame):
            with self.assertRaises(ProtocolError) as e:
                wire.decode_control(frame)
            return e.exception.counter
        self.assertEqual(counter(b"\x02\x01\x90"), "frames_bad_version")
        self.assertEqual(counter(b"\x01\x09\x90"), "frames_unknown_type")
        self.assertIsNone(counter(b"\x01"))
        self.assertIsNone(counter(b"\x01\x01\x90\x90"))       # trailing bytes
        self.assertIsNone(counter(b"\x01\x01\x80"))           # not an array
        self.assertIsNone(counter(b"\x01\x02\x90"))           # PING without its token
        self.assertIsNone(counter(b"\x01\x10\x90"))           # REQUEST read as control
        self.assertIsNone(counter(b"\x01\x06\x91" + b"\x91" * 16 + b"\x90"))   # 17 deep
        self.assertIsNone(counter(b"\x01\x02" + b"\x91\x00" + b"\x00" * wire.MAX_CONTROL_SIZE))

    def test_revision_13_gossip_flag_and_members_are_ignored(self):
        # HELLO flag 0x08 (gossip, §6.3) is a bit this node does not use; MEMBERS (09, §6.10),
        # even the largest, is an unknown type, counted and dropped.
        frame = wire.encode_hello("default", ALPHA, "alpha", "tcp://h:1", "tcp://h:2",
                                  wire.FLAG_WANT_REPLY | wire.FLAG_CALL_LINKS | 0x08, [], 1, 0)
        hello = wire.check_hello(wire.decode_control(frame)[1])
        self.assertEqual(hello.flags & wire.FLAG_OBSERVER, 0)
        update = [BETA, 2**32 - 1, 0, bytes(16), b"m" * 1024]
        largest = wire.encode_control(0x09, [1, [update] * 240])
        self.assertLessEqual(len(largest), wire.MAX_CONTROL_SIZE)
        with self.assertRaises(ProtocolError) as e:
            wire.decode_control(largest)
        self.assertEqual(e.exception.counter, "frames_unknown_type")

    def test_bad_fields_invalidate_the_message(self):
        good = wire.decode_control(HELLO_13_2)[1]
        bad = {0: "", 1: bytes(16), 2: "x" * 65, 3: "tcp://*:1", 4: "tcp://h:0", 5: 256,
               6: ["a"] * 257, 7: -1, 8: "echo"}
        for i, value in bad.items():
            with self.subTest(field=i):
                body = list(good)
                body[i] = value
                with self.assertRaises(ProtocolError):
                    wire.check_hello(body)
        with self.assertRaises(ProtocolError):
            wire.check_subs([["x" * 256]])
        with self.assertRaises(ProtocolError):
            wire.check_subs([[""] * 1001])
        with self.assertRaises(ProtocolError):
            wire.check_stats([{"n": -1}])
        with self.assertRaises(ProtocolError):
            wire.check_peers([[[BETA, "beta", "tcp://h:1"]]])

    def test_a_str_that_is_not_utf8_keeps_its_bytes(self):
        raw = b"mesh-\xff"
        frame = b"\x01\x06\x91\x91" + bytes([0xa0 | len(raw)]) + raw
        prefixes = wire.check_subs(wire.decode_control(frame)[1])
        self.assertEqual(wire.str_bytes(prefixes[0]), raw)
        self.assertEqual(wire.encode_control(wire.SUBS, [list(prefixes)]), frame)

    def test_every_truncated_prefix_and_random_bytes_are_dropped_cleanly(self):
        frames = [HELLO_13_2, REQUEST_13_5, wire.encode_control(wire.PEERS, [[[BETA, "b", "tcp://h:1", "tcp://h:2"]]])]
        for f in frames:
            for n in range(len(f)):
                try:
                    t, body = wire.decode_control(f[:n])
                    if t == wire.HELLO:
                        wire.check_hello(body)
                except ProtocolError:
                    pass
        rng = random.Random(33)
        for _ in range(3000):
            f = bytes([1, rng.randrange(0, 12)]) + rng.randbytes(rng.randrange(0, 64))
            try:
                t, body = wire.decode_control(f)
                {wire.HELLO: wire.check_hello, wire.PEERS: wire.check_peers, wire.SUBS: wire.check_subs,
                 wire.STATS: wire.check_stats, wire.PING: wire.check_token}.get(t, lambda b: b)(body)
            except ProtocolError:
                pass


class Rpc(unittest.TestCase):
    def test_request_and_replies_are_the_worked_examples(self):
        self.assertEqual(wire.encode_request(1 << 32, "echo", 500, wire.pack("hi")), REQUEST_13_5)
        self.assertEqual(wire.decode_request(REQUEST_13_5), (1 << 32, "echo", 500, b"\xa2hi"))
        self.assertEqual(wire.encode_reply(1 << 32, 0, "", wire.pack("hi")), REPLY_13_5)
        self.assertEqual(wire.encode_reply(2 << 32, wire.NO_METHOD, "no method 'nope'"), REPLY_NOPE_13_5)
        self.assertEqual(wire.encode_reply(7, 0, "", wire.pack("hi")), h("01 11 93 07 00 a0 a2 68 69"))

    def test_a_reply_with_a_filler_reads_as_one_without(self):
        self.assertEqual(wire.decode_reply(REPLY_FILLER_13_5), (1 << 32, 0, "", b"\xa2hi"))
        self.assertEqual(wire.decode_reply(REPLY_NOPE_13_5), (2 << 32, -32601, "no method 'nope'", b"\xc0"))

    def test_reply_message_is_cut_to_4096_bytes_on_a_character(self):
        _, _, message, _ = wire.decode_reply(wire.encode_reply(1, 5, "é" * 3000))
        self.assertEqual(len(message.encode()), 4096)

    def test_bad_headers_are_refused(self):
        for frame in (b"\x01\x10", b"\x01\x10\x93\x01\xa0\x01", b"\x01\x10\x92\x01\xa1x",
                      b"\x01\x10\x93\xff\xa1x\x01", b"\x01\x11\x93\x01\xa1x\x00",
                      b"\x01\x10\xdc\xff\xff", b"\x01\x10\x93\x01" + b"\xda\x10\x00" + b"x" * 4096):
            with self.subTest(frame=frame[:12]):
                with self.assertRaises(ProtocolError):
                    (wire.decode_reply if frame[1] == 0x11 else wire.decode_request)(frame)
        # A header that does not end within 4290 bytes is oversized, whatever follows.
        long_header = b"\x01\x10\xdc\x0f\xa0\x01\xa1m\x01" + b"\xcd\x00\x01" * 3997
        with self.assertRaises(ProtocolError) as e:
            wire.decode_request(long_header)
        self.assertIn("too large", str(e.exception))

    def test_every_truncated_prefix_is_dropped_cleanly(self):
        for f in (REQUEST_13_5, REPLY_FILLER_13_5, REPLY_NOPE_13_5):
            for n in range(len(f) - 3):
                try:
                    (wire.decode_reply if f[1] == 0x11 else wire.decode_request)(f[:n])
                except ProtocolError:
                    pass


class Events(unittest.TestCase):
    def test_event_is_the_worked_example_byte_for_byte(self):
        frame = wire.encode_event(ALPHA, b"orders.created", 1, 1700000000000000, wire.pack({"id": 42}))
        self.assertEqual(frame, EVENT_13_4)
        self.assertEqual(wire.decode_event(frame),
                         (b"orders.created", ALPHA, 1, 1700000000000000, b"\x81\xa2id*"))

    def test_shortest_encodings_and_extra_elements_are_accepted(self):
        header = b"\x01\x20" + msgpack.packb([ALPHA, 1, 5, [1, {"a": 2}], None], use_bin_type=True)
        ev = wire.decode_event(b"t\x00" + header + b"\x07")
        self.assertEqual((ev.seq, ev.sent_us, ev.payload), (1, 5, b"\x07"))

    def test_header_encodings_the_fixed_decoder_refuses(self):
        def frame(fields, prefix=b"\x01\x20"):
            return b"t\x00" + prefix + fields
        bad = {
            "bin 16 sender": frame(b"\x93\xc5\x00\x10" + ALPHA + b"\x01\x01"),
            "signed seq": frame(b"\x93\xc4\x10" + ALPHA + b"\xd0\x01\x01"),
            "seq 0": frame(b"\x93\xc4\x10" + ALPHA + b"\x00\x01"),
            "zero sender": frame(b"\x93\xc4\x10" + bytes(16) + b"\x01\x01"),
            "two elements": frame(b"\x92\xc4\x10" + ALPHA + b"\x01"),
            "type": frame(b"\x93\xc4\x10" + ALPHA + b"\x01\x01", b"\x01\x21"),
            "no topic": b"\x00\x01\x20\x93",
            "topic over 255": b"t" * 256 + b"\x00\x01\x20",
            "deep extra": frame(b"\x94\xc4\x10" + ALPHA + b"\x01\x01" + b"\x91" * 9 + b"\x00"),
        }
        for what, f in bad.items():
            with self.subTest(what):
                with self.assertRaises(ProtocolError) as e:
                    wire.decode_event(f)
                self.assertIsNone(e.exception.counter)
        with self.assertRaises(ProtocolError) as e:
            wire.decode_event(b"t\x00\x02\x20")
        self.assertEqual(e.exception.counter, "frames_bad_version")

    def test_every_truncated_prefix_and_random_bytes_are_dropped_cleanly(self):
        for n in range(len(EVENT_13_4)):
            try:
                wire.decode_event(EVENT_13_4[:n])
            except ProtocolError:
                pass
        rng = random.Random(9)
        for _ in range(3000):
            try:
                wire.decode_event(b"t\x00\x01\x20" + rng.randbytes(rng.randrange(0, 48)))
            except ProtocolError:
                pass


class Payloads(unittest.TestCase):
    def test_nesting_up_to_64_is_accepted_and_65_is_not(self):
        deep = wire.unpack_payload(b"\x91" * 64 + b"\x00", 1 << 20)
        self.assertEqual(wire.depth(deep, 100), 64)
        with self.assertRaises(ProtocolError):
            wire.unpack_payload(b"\x91" * 65 + b"\x00", 1 << 20)

    def test_hostile_nesting_does_not_exhaust_the_stack(self):
        with self.assertRaises(ProtocolError):
            wire.unpack_payload(b"\x91" * 100000 + b"\x00", 1 << 20)

    def test_trailing_bytes_empty_input_and_oversize_are_refused(self):
        for data, limit in ((b"\x01\x02", 10), (b"", 10), (b"\xc1", 10), (wire.pack("x" * 20), 10)):
            with self.assertRaises(ProtocolError):
                wire.unpack_payload(data, limit)

    def test_a_map_keyed_by_an_array_is_a_valid_payload(self):
        self.assertEqual(wire.unpack_payload(b"\x81\x92\x01\x02\x03", 100), {(1, 2): 3})

    def test_round_trip_of_random_objects(self):
        rng = random.Random(7)

        def obj(depth=0):
            kind = rng.randrange(8 if depth < 4 else 6)
            if kind == 6:
                return [obj(depth + 1) for _ in range(3)]
            if kind == 7:
                return {str(i): obj(depth + 1) for i in range(2)}
            return [None, rng.random() < 0.5, rng.randrange(-2**63, 2**64),
                    os.urandom(rng.randrange(5)), "s" * rng.randrange(40), rng.random()][kind]
        for _ in range(500):
            o = obj()
            self.assertEqual(wire.unpack_payload(wire.pack(o), 1 << 20), o)


class Endpoints(unittest.TestCase):
    def test_the_grammar_of_section_2_3(self):
        good = ["tcp://h:1", "tcp://10.0.0.5:65535", "tcp://[fe80::1]:5000", "tcp://a_b-c.d:80"]
        bad = ["tcp://*:1", "tcp://h:0", "tcp://h:65536", "udp://h:1", "tcp://fe80::1:5000",
               "tcp://h", "tcp://:1", "tcp://" + "h" * 254 + ":1", "tcp://h:1 "]
        for e in good:
            self.assertTrue(wire.is_endpoint(e), e)
        for e in bad:
            self.assertFalse(wire.is_endpoint(e), e)


if __name__ == "__main__":
    unittest.main()
