#!/usr/bin/python3
# SPDX-License-Identifier: MPL-2.0
"""Attack 1: one plain beacon naming a new id at a member's endpoints.

A node that heard of "another id at the same pub (or router) endpoint" dropped the member
there as replaced, through a reference into the table entry it was erasing (heap
use-after-free under ASan). A beacon alone must not evict a live, joined member, and a
member restarting on fixed ports (a genuine replacement) must not crash the node.
"""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402
from harness import say  # noqa: E402


class replaced_beacon(h.MeshTest):

    def start_pair(self, *b_args):
        a = self.node("a", "--serve", "echo")
        b = self.node("b", "--serve", "echo", *b_args)
        a.wait_joined(b)
        b.wait_joined(a)
        return a, b

    def test_one_beacon_with_a_new_id_at_a_members_endpoints_evicts_nobody(self):
        a, b = self.start_pair()
        closed = h.free_tcp_port()   # nothing listens there
        sender = h.BeaconSender(self.beacon_port)
        mark_a, mark_b = a.mark(), b.mark()
        t_attack = time.monotonic()
        # At b's PUB endpoint (the table's pub-endpoint lookup), then, a second later, at its
        # ROUTER endpoint (the link lookup): one datagram each. The windows are fixed
        # observation periods, not synchronisation; the second lasts past the forged ids'
        # handshake timeout (3 s).
        sender.send(h.encode_beacon(self.mesh, h.random_id(), "b", "127.0.0.1", b.pub_port, closed))
        time.sleep(1.0 * h.SLOW)
        sender.send(h.encode_beacon(self.mesh, h.random_id(), "b", "127.0.0.1", closed, b.router_port))
        sender.close()
        time.sleep(3.5 * h.SLOW)
        left_b = a.peer_lines("left", "b", mark_a)
        left_a = b.peer_lines("left", "a", mark_b)
        say(f"  forged beacons: 2 sent; a reported b left {len(left_b)} times "
            f"{[m.group(2) for _, m in left_b]}, b reported a left {len(left_a)} times; "
            f"a alive: {a.alive()}")
        self.assert_no_sanitizer_report()
        self.assert_alive(a, b)
        self.assertEqual([m.string for _, m in left_b], [], "one forged beacon evicted a live member")
        self.assertEqual([m.string for _, m in left_a], [])
        # Still a working member: b still counts a joined (checked above) and calls succeed.
        self.assert_call_ok("echo", "[1]", peer="a")
        self.assert_call_ok("echo", "[2]", peer="b")
        self.assert_no_sanitizer_report()
        say(f"  echo to a and to b after the attack: ok ({time.monotonic() - t_attack:.1f} s)")

    def test_member_restarting_on_fixed_ports_is_replaced_without_harm(self):
        pub, router = h.free_tcp_port(), h.free_tcp_port()
        fixed = ("--pub-port", pub, "--router-port", router)
        a, b = self.start_pair(*fixed)
        reasons = []
        for cycle in range(3):
            old = b
            mark = a.mark()
            old.kill()   # SIGKILL: no LEAVE; the new process takes the same ports at once
            b = self.node("b", "--serve", "echo", *fixed, label=f"b{cycle + 2}")
            a.wait_joined(b, timeout=10, start=mark)
            _, _, m = a.wait_line(rf"^left b {old.id}\b", timeout=10, start=mark)
            reasons.append(m.string.split()[-1])
            self.assert_alive(a)
            self.assert_no_sanitizer_report()
        say(f"  3 restarts on fixed ports: old id left each time ({', '.join(reasons)}), "
            f"new id joined; a alive")
        self.assert_call_ok("echo", "[1]", peer="a")
        self.assert_call_ok("echo", "[2]", peer="b")
        self.assert_no_sanitizer_report()


if __name__ == "__main__":
    h.main()
