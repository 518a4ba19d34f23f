# SPDX-License-Identifier: MPL-2.0
"""support: what the interop tests share: the zmesh package from this checkout, C++
processes started and reaped by PID with their output read line by line, free ports, and a
unittest base class that gives each test its own mesh, beacon port and directory.

Each test file runs as `/usr/bin/python3 tests/interop/TEST.py BUILD/bin [unittest args]`.
"""

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "python"))
import zmesh  # noqa: E402  the package under test, from this checkout

BIN = None   # BUILD/bin, set by main()
STEP = 10.0  # the most one step may take, in seconds (a loaded 2-core box included)


def main():
    """Runs the calling module's tests; argv[1] is BUILD/bin."""
    global BIN
    args = sys.argv[1:]
    if not args or not os.path.isfile(os.path.join(args[0], "zmesh-node")):
        print(f"usage: {sys.argv[0]} BUILD/bin [unittest args]  (the directory of zmesh-node)")
        sys.exit(2)
    BIN = os.path.abspath(args.pop(0))
    unittest.main(argv=[sys.argv[0], *args], verbosity=2)


def free_tcp_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def free_udp_port():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("0.0.0.0", 0))
        return s.getsockname()[1]


def wait_for(predicate, timeout=STEP, interval=0.02):
    """predicate()'s first truthy value within timeout seconds, else None."""
    deadline = time.monotonic() + timeout
    while True:
        v = predicate()
        if v or time.monotonic() >= deadline:
            return v or None
        time.sleep(interval)


class Proc:
    """A process started by a test; its stdout read by a thread into lines, its stderr kept
    in a file. Ended by PID only."""

    def __init__(self, workdir, label, argv, env=None):
        self.label, self.argv = label, argv
        self.err_path = os.path.join(workdir, f"{label}.err")
        with open(self.err_path, "wb") as err:
            self.popen = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                          stderr=err, env=env)
        self.pid = self.popen.pid
        self._lines = []
        self._cond = threading.Condition()
        self._eof = False
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        for raw in self.popen.stdout:
            with self._cond:
                self._lines.append(raw.decode(errors="replace").rstrip("\n"))
                self._cond.notify_all()
        with self._cond:
            self._eof = True
            self._cond.notify_all()

    def lines(self):
        with self._cond:
            return list(self._lines)

    def wait_line(self, pattern, timeout=STEP):
        """The first line matching pattern (re.Match). Raises AssertionError with the
        process's output after timeout seconds, or when it ended without one."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        i = 0
        with self._cond:
            while True:
                while i < len(self._lines):
                    m = rx.search(self._lines[i])
                    if m:
                        return m
                    i += 1
                left = deadline - time.monotonic()
                if left <= 0 or self._eof:
                    break
                self._cond.wait(min(left, 0.2))
        raise AssertionError(f"{self.label} (pid {self.pid}): no line matching {pattern!r}"
                             f" within {timeout:.0f} s\n{self.tail()}")

    def wait_exit(self, timeout=STEP):
        """The exit status, once all its output is read; AssertionError when it is still
        running after timeout."""
        try:
            status = self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"{self.label} (pid {self.pid}) still running\n{self.tail()}") from None
        self._reader.join(timeout)
        return status

    def tail(self, n=25):
        with open(self.err_path, errors="replace") as f:
            err = f.read().splitlines()[-n:]
        out = [x for x in self.lines() if not x.startswith("event ")][-n:]
        return (f"  --- {self.label} stdout:\n" + "\n".join("    " + x for x in out)
                + f"\n  --- {self.label} stderr:\n" + "\n".join("    " + x for x in err))

    def alive(self):
        return self.popen.poll() is None

    def signal(self, sig):
        if self.alive():
            os.kill(self.pid, sig)

    def freeze(self):
        """SIGSTOP, returning once the process is stopped (the signal is asynchronous)."""
        self.signal(signal.SIGSTOP)

        def state():
            with open(f"/proc/{self.pid}/stat") as f:
                return f.read().rpartition(")")[2].split()[0]
        assert wait_for(lambda: state() in ("T", "t")), f"{self.label} did not stop"

    def stop(self, timeout=5.0):
        """SIGTERM (a node sends LEAVE), SIGKILL after timeout; reaped either way."""
        self.signal(signal.SIGCONT)
        self.signal(signal.SIGTERM)
        try:
            self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            self.signal(signal.SIGKILL)
            self.popen.wait()
        self._reader.join(2)
        self.popen.stdout.close()
        return self.popen.returncode


class MeshCase(unittest.TestCase):
    """Each test has its own mesh id, beacon port and directory; every C++ process and
    Python node it starts is ended in tearDown, and on failure each process's output is
    printed."""

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="zmesh-interop-")
        short = self.id().split(".")[-1][:20]
        self.mesh = f"py-{short}-{os.getpid()}-{os.urandom(3).hex()}"[:64]
        self.beacon_port = free_udp_port()
        self.procs, self.nodes = [], []
        self._problems = self._count_problems()
        print(f"\n== {self.id()}: mesh {self.mesh}, beacon port {self.beacon_port}", flush=True)

    def tearDown(self):
        for n in self.nodes:
            n.stop()
        for p in self.procs:
            p.stop()
        if self._count_problems() > self._problems:
            for p in self.procs:
                print(p.tail())
        shutil.rmtree(self.dir, ignore_errors=True)

    def _count_problems(self):
        result = getattr(self._outcome, "result", None)   # failures are added as they happen
        return len(result.failures) + len(result.errors) if result else 0

    def local(self, beacons=False):
        """Flags every C++ process gets: loopback only; beacons on this test's port, or none."""
        flags = ["--mesh", self.mesh, "--interface", "lo", "--bind", "127.0.0.1",
                 "--beacon-port", str(self.beacon_port)]
        return flags + ([] if beacons else ["--beacon-interval", "0"])

    def run_cxx(self, label, program, *args):
        p = Proc(self.dir, label, [os.path.join(BIN, program), *map(str, args)])
        self.procs.append(p)
        return p

    def cxx_node(self, name, *args, beacons=False):
        """A zmesh-node, waited for until it has started."""
        p = self.run_cxx(name, "zmesh-node", "--name", name, *self.local(beacons), *args)
        p.wait_line(rf"^started {re.escape(name)} ")
        return p

    def py_node(self, name, beacons=False, **options):
        """A started zmesh.Node on loopback, beaconing on this test's port, or not at all."""
        options.setdefault("beacon_interval", 1.0 if beacons else 0)
        n = zmesh.Node(name=name, mesh=self.mesh, interface="lo", bind="127.0.0.1",
                       beacon_port=self.beacon_port, **options)
        self.nodes.append(n)
        return n.start()

    def joined(self, node, name, timeout=STEP):
        """The PeerInfo of the joined member called name, once node sees it."""
        found = lambda: next((p for p in node.peers() if p.name == name and p.state == "joined"), None)
        self.assertTrue(node.wait_until(lambda _: found(), timeout),
                        f"{node.name} never saw {name} joined: {node.peers()}")
        return found()
