#!/usr/bin/python3
# SPDX-License-Identifier: MPL-2.0
"""Attack 8: running out of file descriptors.

Every peer costs a node descriptors (a link, and the accepted ends of the peer's link and
SUB), but a node kept the soft RLIMIT_NOFILE it was started with (1024 on most systems)
whatever --max-peers said. A node must raise its soft limit to the hard limit at start, and
say so in one clear line (stderr) when --max-peers would need more descriptors than that.
"""

import os
import re
import resource
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402
from harness import say  # noqa: E402

WARNING = re.compile(r"max[-_ ]peers|descriptor", re.IGNORECASE)


class fd_limit(h.MeshTest):

    def test_soft_limit_is_raised_to_the_hard_limit_at_start(self):
        hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
        if hard != resource.RLIM_INFINITY and hard < 4096:
            self.skipTest(f"this runner's hard RLIMIT_NOFILE is {hard}: cannot give a child 4096")
        a = self.node("a", nofile=(1024, 4096))
        soft, hard = h.nofile_limits(a.pid)
        say(f"  started with soft 1024, hard 4096: the running node has soft {soft}, hard {hard}")
        self.assertEqual(hard, 4096)
        self.assertEqual(soft, 4096, "the node did not raise its soft RLIMIT_NOFILE")

    def test_max_peers_beyond_the_descriptors_is_reported_at_start(self):
        a = self.node("a", nofile=(256, 256))   # the default --max-peers 1024
        few = self.node("few", "--max-peers", 8, nofile=(256, 256))   # this one fits
        a.wait_joined(few)   # it runs: the line is a warning, not a refusal

        def about_it(n):
            # (The mesh id, which names this test, is no such mention.)
            return [x for x in n.stderr_text().splitlines()
                    if WARNING.search(x.replace(self.mesh, ""))]
        # Written at start, before `started`; stderr is a file, so allow it a moment.
        lines = h.wait_for(lambda: about_it(a), 2.0) or []
        say(f"  hard limit 256, --max-peers 1024: stderr lines about it: {lines or 'none'}")
        say(f"  hard limit 256, --max-peers 8: {about_it(few) or 'none'}")
        self.assertTrue(lines, "no line on stderr says --max-peers exceeds the descriptors")
        self.assertEqual(about_it(few), [], "a warning where the descriptors suffice")
        self.assert_no_sanitizer_report()


if __name__ == "__main__":
    h.main()
