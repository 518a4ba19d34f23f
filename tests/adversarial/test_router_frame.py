#!/usr/bin/python3
# SPDX-License-Identifier: MPL-2.0
"""Attack 2a: one ZMTP frame of any size to a node's ROUTER.

ZMQ_MAXMSGSIZE set on the ROUTER after bind does not reach the connections it accepts, so
a client (raw ZMTP 3.0, NULL mechanism: no handshake with the mesh at all) announcing a
200 MiB frame made the node allocate it and hold every byte streamed. The frame is over the
node's maximum: it must be refused from its header, before it is allocated.
"""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402
from harness import MIB, say, wire  # noqa: E402

# The node's largest valid frame on its ROUTER: a control frame, or an RPC header and body
# (PROTOCOL.md §4.1, at the default max_rpc_size).
ROUTER_MAX = max(wire.MAX_CONTROL_SIZE, wire.MAX_RPC_HEADER + wire.MAX_RPC_SIZE)


class router_frame(h.MeshTest):

    def test_frame_announcing_200_mib_is_refused_before_it_is_allocated(self):
        a = self.node("a", "--serve", "echo")
        b = self.node("b")
        a.wait_joined(b)
        b.wait_joined(a)
        mark_b = b.mark()
        before = h.rss_kib(a.pid)
        watch = h.RssWatch(a, cap_mib=before // 1024 + 1024)

        announced = 200 * MIB
        s = h.zmtp_connect("127.0.0.1", a.router_port)
        chunk = os.urandom(MIB)
        sent, cut = 0, None
        t0 = time.monotonic()
        try:
            s.sendall(h.zmtp_frame_header(announced))
            while sent + len(chunk) < announced:   # never completes the frame
                s.sendall(chunk)
                sent += len(chunk)
        except OSError as e:   # reset or broken pipe: the node cut the connection
            cut = e
        elapsed = time.monotonic() - t0
        # Whatever the node kept of it, it holds now, while the connection is still open.
        peak = watch.settle(timeout=5, quiet=0.5)
        watch.stop()
        s.close()
        say(f"  ROUTER frame announcing {announced // MIB} MiB: streamed {sent / MIB:.0f} MiB in "
            f"{elapsed:.1f} s; connection "
            + (f"cut ({type(cut).__name__}: {cut})" if cut else "kept open to the end"))
        self.assertFalse(watch.capped, "the node passed the RSS cap: killed")
        self.assert_alive(a, b)
        self.assert_rss_growth("oversized ROUTER frame", before, peak)
        self.assertIsNotNone(cut, f"the node read {sent / MIB:.0f} MiB of one oversized frame "
                                  "without cutting the connection")

        # Still a working member.
        left_a = b.peer_lines("left", "a", mark_b)
        self.assertEqual([m.string for _, m in left_a], [], "b lost a")
        self.assert_call_ok("echo", '"after"', peer="a")
        self.assert_no_sanitizer_report()
        say("  echo to a afterwards: ok; b still has a joined")

    def test_frame_one_byte_over_the_maximum_is_refused(self):
        a = self.node("a", "--serve", "echo")
        size = ROUTER_MAX + 1
        s = h.zmtp_connect("127.0.0.1", a.router_port)
        error = None
        try:   # all but its last byte: a frame the node could only be holding, not handling
            s.sendall(h.zmtp_frame_header(size) + os.urandom(size - 1))
        except OSError as e:
            error = e
        cut = error is not None or h.wait_closed(s, 2.0)
        s.close()
        say(f"  ROUTER frame of {size} bytes (the maximum {ROUTER_MAX} + 1): connection "
            f"{'cut' if cut else 'kept open'}")
        self.assertTrue(cut, "a frame over the node's maximum was accepted")
        self.assert_alive(a)
        self.assert_call_ok("echo", "[1]", peer="a")
        self.assert_no_sanitizer_report()


if __name__ == "__main__":
    h.main()
