#!/usr/bin/env bash
# SPDX-License-Identifier: MPL-2.0
# python.pip: `pip install ./python` works, and the installed package (not the checkout) runs
# two nodes that call each other.
#   pip_install_test.sh PYTHON SOURCE_DIR WORK_DIR
# A venv with the system's site packages (python3-zmq, python3-msgpack) and its own pip and
# setuptools (Debian's python3-venv), so nothing is downloaded. Exit 77 (skipped) without venv.
set -euo pipefail
python=$1 source=$2 work=$3
rm -rf "$work"
mkdir -p "$work"
if ! "$python" -m venv --system-site-packages "$work/venv" >"$work/venv.log" 2>&1; then
    echo "skipped: $python -m venv failed (python3-venv missing?)"; cat "$work/venv.log"; exit 77
fi
# A copy of the sources: pip builds in place and must not write into the checkout.
cp -r "$source" "$work/src"
rm -rf "$work/src/build" "$work/src"/*.egg-info
"$work/venv/bin/pip" install --no-build-isolation --no-index "$work/src" >"$work/pip.log" 2>&1 \
    || { cat "$work/pip.log"; exit 1; }
cd "$work"
rm -rf "$work/src"
PYTHONDONTWRITEBYTECODE=1 "$work/venv/bin/python" - <<'PY'
import os, socket, zmesh
assert zmesh.__file__.startswith(os.path.join(os.getcwd(), "venv")), zmesh.__file__
with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
    s.bind(("0.0.0.0", 0))
    port = s.getsockname()[1]
mesh = f"pip-{os.getpid()}"
opts = dict(mesh=mesh, interface="lo", bind="127.0.0.1", beacon_port=port)
with zmesh.Node(name="a", **opts) as a, zmesh.Node(name="b", **opts) as b:
    b.serve("twice", lambda x: 2 * x)
    assert a.wait_for_provider("twice", 10), a.peers()
    assert a.call("twice", 21) == 42
print(f"ok: zmesh {zmesh.__version__} installed by pip at {os.path.dirname(zmesh.__file__)}")
PY
