#!/usr/bin/python3
# SPDX-License-Identifier: MPL-2.0
"""Attack 2b: subscriptions to a node's PUB that grow it without bound.

The PUB had no bound on what a subscriber sends: one SUBSCRIBE with an 8 MiB prefix grew a
node by ~800 MiB (libzmq's subscription trie: a node per byte), never given back; a 100 MB
one took it past 2.4 GB. A prefix is at most 255 bytes (PROTOCOL.md §2.2): a longer one
must be refused (the connection cut), and one connection's subscriptions are bounded in
number (1000, max_subscriptions) and in bytes (65536, max_subscription_bytes: §9.4 rule 6).

The attacker speaks raw ZMTP 3.0 as a SUB (a subscription is a message whose first byte is
01): libzmq's own SUB would keep a copy of each subscription, and grow as much as its victim.
"""

import os
import random
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402
from harness import MIB, say  # noqa: E402


class subscriptions(h.MeshTest):

    def setUp(self):
        super().setUp()
        # a publishes: libzmq reads subscriptions from a PUB's pipes when the socket is used,
        # so a node that never publishes would only hold the raw message.
        self.a = self.node("a", "--serve", "echo", "--publish", "adv.a", "--rate", 50)
        self.b = self.node("b")
        self.a.wait_joined(self.b)
        self.b.wait_joined(self.a)
        self.mark_b = self.b.mark()

    def attack(self, what, frames, must_cut):
        """Sends each subscription body in `frames` (bytes after the 01) on one connection to
        a's PUB; checks RSS, whether it was cut, and that a still works."""
        a = self.a
        before = h.rss_kib(a.pid)
        watch = h.RssWatch(a, cap_mib=before // 1024 + 1024)
        s = h.zmtp_connect("127.0.0.1", a.pub_port, socket_type=b"SUB")
        sent = 0
        error = None
        t0 = time.monotonic()
        try:
            for body in frames:
                s.sendall(h.zmtp_frame_header(1 + len(body)) + b"\x01" + body)
                sent += 1
        except OSError as e:
            error = e
        elapsed = time.monotonic() - t0
        cut = error is not None or h.wait_closed(s, 2.0)
        # What the node makes of it (libzmq's I/O thread inserting into its trie) takes time:
        # the peak once RSS has been still for a second.
        peak = watch.settle(timeout=20 * h.SLOW, quiet=1.0)
        watch.stop()
        s.close()
        say(f"  {what}: {sent} subscription message(s) sent in {elapsed:.1f} s; connection "
            + ("cut" + (f" ({type(error).__name__})" if error else "") if cut else "kept open")
            + ("; the node passed the RSS cap (+1 GiB) and was killed" if watch.capped else ""))
        self.assertFalse(watch.capped, f"{what}: the node grew past +1 GiB (killed by the test)")
        self.assert_alive(a, self.b)
        self.assert_rss_growth(what, before, peak)
        if must_cut:
            self.assertTrue(cut, f"{what}: the node kept the connection")
        left_a = self.b.peer_lines("left", "a", self.mark_b)
        self.assertEqual([m.string for _, m in left_a], [], "b lost a")
        self.assert_call_ok("echo", "[42]", peer="a")
        self.assert_no_sanitizer_report()
        say("  echo to a afterwards: ok; b still has a joined")

    def test_8_mib_subscription_prefix_is_refused(self):
        self.attack("SUBSCRIBE with an 8 MiB prefix", [os.urandom(8 * MIB // 2).hex().encode()],
                    must_cut=True)

    def test_100_mb_subscription_prefix_is_refused(self):
        self.attack("SUBSCRIBE with a 100 MB prefix", [b"x" * 100_000_000], must_cut=True)

    def test_subscriptions_at_the_limits_are_kept_and_one_past_them_is_cut(self):
        """The boundaries (PROTOCOL.md §9.4: a prefix is 0..255 bytes, a connection holds up
        to 1000 of them and 65536 bytes in all): a member's longest, most numerous and
        largest valid subscriptions must pass, one more prefix or byte must not."""
        def cut_after(prefixes):
            s = h.zmtp_connect("127.0.0.1", self.a.pub_port, socket_type=b"SUB")
            try:
                for p in prefixes:
                    s.sendall(h.zmtp_frame_header(1 + len(p)) + b"\x01" + p)
            except OSError:
                return True
            finally:
                cut = h.wait_closed(s, 2.0)
                s.close()
            return cut
        rng = random.Random(11)

        def distinct(count, size):
            return [b"%04d" % i + bytes(rng.choice(b"abcdefghijklmnopqrstuvwxyz")
                                        for _ in range(size - 4)) for i in range(count)]
        most_bytes = distinct(257, 255) + [b"f"]   # 65535 + 1 bytes
        verdicts = {
            "one of 255 bytes": cut_after([b"p" * 255]),
            "1000 distinct of 65 bytes": cut_after(distinct(1000, 65)),
            "65536 bytes of prefixes": cut_after(most_bytes),
            "one of 256 bytes": cut_after([b"p" * 256]),
            "1001 distinct": cut_after(distinct(1001, 8)),
            "65537 bytes of prefixes": cut_after(most_bytes + [b"g"]),
        }
        say("  subscriptions: " + "; ".join(f"{k}: connection {'cut' if v else 'kept'}"
                                            for k, v in verdicts.items()))
        for kept in ("one of 255 bytes", "1000 distinct of 65 bytes", "65536 bytes of prefixes"):
            self.assertFalse(verdicts[kept], f"{kept}: valid, yet it cost the subscriber its connection")
        for cut in ("one of 256 bytes", "1001 distinct", "65537 bytes of prefixes"):
            self.assertTrue(verdicts[cut], f"{cut}: past a bound, yet the connection was kept")
        self.assert_alive(self.a)
        self.assert_no_sanitizer_report()

    def test_10000_distinct_255_byte_subscriptions_on_one_connection_stay_bounded(self):
        rng = random.Random(7)
        letters = b"abcdefghijklmnopqrstuvwxyz"
        prefixes = (bytes(rng.choice(letters) for _ in range(255)) for _ in range(10_000))
        self.attack("10,000 distinct 255-byte subscriptions on one connection", prefixes,
                    must_cut=True)


if __name__ == "__main__":
    h.main()
