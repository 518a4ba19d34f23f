# SPDX-License-Identifier: MPL-2.0
"""zmesh_wire: the wire format for tests that forge frames (tests/adversarial), as the
Python package python/zmesh has it: this checkout's zmesh.wire under its old name."""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "python"))
from zmesh.wire import *  # noqa: E402,F401,F403
