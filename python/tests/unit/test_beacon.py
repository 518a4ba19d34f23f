# SPDX-License-Identifier: MPL-2.0
"""beacon: the datagram of PROTOCOL.md §13.1 byte for byte, signed beacons (§5.4) and the
replay rule, and malformed datagrams. No sockets."""

import random
import unittest

from zmesh import beacon as bc
from zmesh.wire import ProtocolError

ALPHA = bytes.fromhex("3f9a1c7e5b2d4e8f9a0b1c2d3e4f5061")
BEACON_13_1 = bytes.fromhex(
    "5a4d5348 01 00 96 a764656661756c74 c4103f9a1c7e5b2d4e8f9a0b1c2d3e4f5061 a5616c706861 a0"
    " cd9cbb cd9cbc".replace(" ", ""))
SECRET = b"0123456789abcdef0123456789abcdef"


class Beacons(unittest.TestCase):
    def test_beacon_is_the_worked_example_byte_for_byte(self):
        d = bc.encode_beacon("default", ALPHA, "alpha", "", 40123, 40124)
        self.assertEqual(d, BEACON_13_1)
        b = bc.decode_beacon(d)
        self.assertEqual((b.mesh, b.id, b.name, b.host, b.pub_port, b.router_port, b.signed),
                         ("default", ALPHA, "alpha", "", 40123, 40124, False))

    def test_signed_beacon_is_authentic_only_with_its_secret(self):
        d = bc.encode_beacon("m", ALPHA, "a", "10.0.0.5", 1, 2, secret=SECRET, sent_us=77)
        self.assertEqual(d[5], bc.FLAG_SIGNED)
        b = bc.decode_beacon(d, SECRET)
        self.assertTrue(b.authentic)
        self.assertEqual((b.sent_us, b.host), (77, "10.0.0.5"))
        self.assertFalse(bc.decode_beacon(d, SECRET[::-1]).authentic)
        self.assertFalse(bc.decode_beacon(d).authentic)        # no secret: read, not believed
        forged = d[:-1] + bytes([d[-1] ^ 1])
        self.assertFalse(bc.decode_beacon(forged, SECRET).authentic)
        self.assertFalse(bc.decode_beacon(BEACON_13_1, SECRET).authentic)   # unsigned

    def test_an_asking_beacon_sets_bit_1_under_the_mac_and_unknown_bits_are_ignored(self):
        d = bc.encode_beacon("m", ALPHA, "a", "", 1, 2, asking=True)
        self.assertEqual(d[5], bc.FLAG_ASKING)
        self.assertTrue(bc.decode_beacon(d).asking)
        self.assertFalse(bc.decode_beacon(BEACON_13_1).asking)
        s = bc.encode_beacon("m", ALPHA, "a", "", 1, 2, secret=SECRET, sent_us=77, asking=True)
        self.assertEqual(s[5], bc.FLAG_SIGNED | bc.FLAG_ASKING)
        self.assertTrue(bc.decode_beacon(s, SECRET).authentic)
        turned = s[:5] + bytes([bc.FLAG_SIGNED]) + s[6:]   # a question made a beacon to dial
        self.assertFalse(bc.decode_beacon(turned, SECRET).authentic)
        unknown = BEACON_13_1[:5] + b"\xfc" + BEACON_13_1[6:]
        self.assertEqual((bc.decode_beacon(unknown).asking, bc.decode_beacon(unknown).signed), (False, False))

    def test_malformed_datagrams_are_invalid(self):
        bad = [b"", BEACON_13_1[:5], b"ZMSX" + BEACON_13_1[4:], BEACON_13_1[:4] + b"\x02" + BEACON_13_1[5:],
               BEACON_13_1 + b"\x00", BEACON_13_1 + b"x" * 500,
               bc.encode_beacon("m", ALPHA, "a", "", 1, 2)[:6] + b"\x95" + BEACON_13_1[7:-3],
               BEACON_13_1[:5] + b"\x01" + BEACON_13_1[6:],           # signed, no MAC
               bc.encode_beacon("m", ALPHA, "a", "bad host!", 1, 2)]
        for d in bad:
            with self.subTest(d=d[:16]):
                with self.assertRaises(ProtocolError):
                    bc.decode_beacon(d)
        for n in range(len(BEACON_13_1)):
            with self.assertRaises(ProtocolError):
                bc.decode_beacon(BEACON_13_1[:n])
        rng = random.Random(5)
        for _ in range(2000):
            try:
                bc.decode_beacon(b"ZMSH\x01" + rng.randbytes(rng.randrange(0, 80)), SECRET)
            except ProtocolError:
                pass

    def test_the_largest_beacon_fits_one_datagram(self):
        d = bc.encode_beacon("m" * 64, ALPHA, "a" * 64, "h" * 253, 65535, 65535, secret=SECRET,
                             sent_us=2**64 - 1)
        self.assertLessEqual(len(d), bc.MAX_BEACON_SIZE)
        self.assertTrue(bc.decode_beacon(d, SECRET).authentic)


class Replay(unittest.TestCase):
    def test_rules_of_section_5_4(self):
        g = bc.ReplayGuard()
        now_us = 1_700_000_000_000_000
        self.assertTrue(g.fresh(ALPHA, now_us, now_us, 10.0))
        self.assertTrue(g.fresh(ALPHA, now_us, now_us, 10.5))       # a copy on another interface
        self.assertFalse(g.fresh(ALPHA, now_us, now_us, 11.5))      # the same, replayed later
        self.assertFalse(g.fresh(ALPHA, now_us - 1, now_us, 11.5))  # older than the newest
        self.assertTrue(g.fresh(ALPHA, now_us + 1000, now_us, 11.5))
        self.assertFalse(g.fresh(b"x" * 16, now_us - 31_000_000, now_us, 12.0))   # stale
        self.assertFalse(g.fresh(b"y" * 16, now_us + 31_000_000, now_us, 12.0))   # from the future

    def test_the_table_is_bounded(self):
        g = bc.ReplayGuard()
        for i in range(bc.MAX_REPLAY_IDS * 3):
            self.assertTrue(g.fresh(i.to_bytes(16, "big"), 5, 5, 0.0))
        self.assertLessEqual(len(g._newest), bc.MAX_REPLAY_IDS)


if __name__ == "__main__":
    unittest.main()
