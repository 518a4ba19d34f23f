#!/usr/bin/python3
# SPDX-License-Identifier: MPL-2.0
"""Attack 6: two replicas of a service started with one key file.

In a secured mesh a node's id was the start of its public key, so two processes holding one
key took each other's identity: their peers saw them flap evasive/recovered and `zmesh call`
failed with a misleading no_provider. Both replicas must join as distinct members (distinct
ids), nothing may flap, and a call to the method both serve must succeed.
"""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402
from harness import say  # noqa: E402

WINDOW = 5.0


class shared_key(h.MeshTest):

    def test_two_replicas_with_one_key_join_as_distinct_members_without_flapping(self):
        self.make_mesh_secret()
        self.keygen("a")
        self.keygen("replica")
        self.keygen("client")
        a = self.node("a", *self.secured_args("a"))
        r1 = self.node("r1", "--serve", "echo", *self.secured_args("replica"))
        r2 = self.node("r2", "--serve", "echo", *self.secured_args("replica"))
        # Everything is observed first and asserted at the end, so that a run against a
        # node with the hole prints all its figures.
        def joined(n, other):
            return lambda: n.matching(rf"^joined {other.name} {other.id}\b")
        pairs = ((a, r1), (a, r2), (r1, r2), (r2, r1))
        h.wait_for(lambda: all(joined(n, o)() for n, o in pairs), 10)
        joins = {f"{n.label} sees {o.label}": bool(joined(n, o)()) for n, o in pairs}

        marks = {n: n.mark() for n in (a, r1, r2)}
        time.sleep(WINDOW)   # a fixed observation window
        flaps = {n.label: [text for text in n.lines(marks[n])
                           if text.split()[0] in ("evasive", "recovered", "left")]
                 for n in (a, r1, r2)}
        results = [self.call("echo", f"[{i}]", secured="client") for i in range(3)]
        say(f"  replica ids: r1 {r1.id}, r2 {r2.id}; joined: "
            + ", ".join(f"{k} {'yes' if v else 'NO'}" for k, v in joins.items()))
        say(f"  {WINDOW:.0f} s window: evasive/recovered/left lines "
            + ", ".join(f"{k} {len(v)}" for k, v in flaps.items())
            + f"; echo calls exit {[rc for rc, _, _ in results]} "
            + f"({'; '.join(err for rc, _, err in results if rc) or 'all ok'})")
        self.assert_no_sanitizer_report()
        self.assert_alive(a, r1, r2)
        self.assertNotEqual(r1.id, r2.id, "two replicas of one key share one id")
        for what, ok in joins.items():
            self.assertTrue(ok, f"not joined: {what}")
        for label, lines in flaps.items():
            self.assertEqual(lines[:5], [], f"{label} saw members flap")
        for rc, out, err in results:
            self.assertEqual(rc, 0, f"echo failed: {err}")


if __name__ == "__main__":
    h.main()
