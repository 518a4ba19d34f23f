# SPDX-License-Identifier: MPL-2.0
"""harness: what every adversarial test needs to attack real zmesh-node processes over
loopback: processes started and reaped by PID, their stdout read line by line with
deadlines, free ports, RSS, waiting on conditions, and the attacker's tools (forged
beacons, raw ZMTP). The wire format comes from tests/interop/zmesh_wire.py.

Uses python3 stdlib with Debian's python3-zmq and python3-msgpack only.

Each test file runs as `/usr/bin/python3 tests/adversarial/test_X.py BUILD/bin [unittest args]`.
"""

import atexit
import ctypes
import hashlib
import hmac
import os
import re
import resource
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import unittest

import msgpack

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "interop"))
import zmesh_wire as wire  # noqa: E402

# The tools' directory (BUILD/bin), set by main().
BIN = None
# A sanitizer build: ASan's quarantine holds freed memory, so RSS bounds are not asserted.
SANITIZED = os.environ.get("ZMESH_SANITIZE", "") not in ("", "0", "OFF", "off")
# Everything is slower under the sanitizers and on a loaded 2-core box.
SLOW = 3.0 if SANITIZED else 1.0

MIB = 1024 * 1024
BEACON_GROUP = "239.255.77.77"


def main():
    """Runs the unittest cases of the calling module; argv[1] is BUILD/bin."""
    global BIN
    args = sys.argv[1:]
    if args and not args[0].startswith("-"):
        BIN = os.path.abspath(args.pop(0))
    else:
        BIN = os.environ.get("ZMESH_BIN") or os.path.join(
            os.path.dirname(os.path.abspath(__file__)), "..", "..", "build", "bin")
    if not os.path.isfile(os.path.join(BIN, "zmesh-node")):
        print(f"usage: {sys.argv[0]} BUILD/bin  (no zmesh-node in {BIN})")
        sys.exit(2)
    unittest.main(argv=[sys.argv[0], *args], verbosity=2)


def say(text):
    """A figure or a step, printed at once (ctest shows it with -V or on failure)."""
    print(text, flush=True)


# ---------------------------------------------------------------------------------------------
# Waiting, ports, memory
# ---------------------------------------------------------------------------------------------

def wait_for(predicate, timeout, interval=0.02):
    """predicate()'s first truthy value within timeout seconds, else None."""
    deadline = time.monotonic() + timeout * SLOW
    while True:
        v = predicate()
        if v:
            return v
        if time.monotonic() >= deadline:
            return None
        time.sleep(interval)


def free_tcp_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def free_udp_port():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("0.0.0.0", 0))
        return s.getsockname()[1]


def rss_kib(pid):
    """VmRSS of a live process in KiB, or None when it is gone."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def nofile_limits(pid):
    """(soft, hard) 'Max open files' of a live process, from /proc/PID/limits."""
    with open(f"/proc/{pid}/limits") as f:
        for line in f:
            if line.startswith("Max open files"):
                soft, hard = line[len("Max open files"):].split()[:2]
                return int(soft), int(hard)
    return None


class RssWatch:
    """Samples a process's RSS in a thread and keeps the peak. With cap_mib, kills the
    process (SIGKILL, by PID) once its RSS passes the cap: an attack that works must not
    take the shared machine down with it."""

    def __init__(self, proc, cap_mib=None, interval=0.01):
        self.proc, self.cap_kib, self.interval = proc, cap_mib and cap_mib * 1024, interval
        self.start_kib = rss_kib(proc.pid) or 0
        self.peak_kib = self.last_kib = self.start_kib
        self.capped = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        while not self._stop.is_set():
            r = rss_kib(self.proc.pid)
            if r is None:
                return
            self.last_kib = r
            self.peak_kib = max(self.peak_kib, r)
            if self.cap_kib and r > self.cap_kib and not self.capped:
                self.capped = True
                self.proc.kill()
                return
            self._stop.wait(self.interval)

    def stop(self):
        self._stop.set()
        self._thread.join()
        return self.peak_kib

    def settle(self, timeout, quiet=1.0, slack_kib=512):
        """Waits until RSS has not grown by more than slack_kib for `quiet` seconds (the
        node has finished digesting the input), or timeout; returns the peak so far."""
        deadline = time.monotonic() + timeout
        mark, mark_t = self.peak_kib, time.monotonic()
        while time.monotonic() < deadline and not self.capped and self.proc.alive():
            time.sleep(0.05)
            if self.peak_kib > mark + slack_kib:
                mark, mark_t = self.peak_kib, time.monotonic()
            elif time.monotonic() - mark_t >= quiet:
                break
        return self.peak_kib


# ---------------------------------------------------------------------------------------------
# Processes
# ---------------------------------------------------------------------------------------------

_live = set()              # every Proc not yet reaped: killed by PID at exit, whatever happens
_libc = ctypes.CDLL(None, use_errno=True)
_PR_SET_PDEATHSIG = 1


@atexit.register
def _kill_leftovers():
    for p in list(_live):
        p.kill()


def _child_setup(nofile):
    # In the child between fork and exec: die with the test runner, and take the limits asked.
    def run():
        _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
        if nofile is not None:
            resource.setrlimit(resource.RLIMIT_NOFILE, nofile)
    return run


def _sanitizer_option(variable, key):
    """The value of key= in a sanitizer's colon-separated options (e.g. ASAN_OPTIONS), or ''."""
    for item in os.environ.get(variable, "").split(":"):
        if item.startswith(key + "="):
            return item[len(key) + 1:]
    return ""


class Proc:
    """One process started by a test. stdout is read by a thread into timestamped lines;
    stderr goes to a file (an ASan report can be long). Ended by PID, never by name."""

    def __init__(self, workdir, label, argv, env=None, nofile=None):
        self.label, self.argv = label, argv
        self.err_path = os.path.join(workdir, f"{label}.{len(_live)}.{time.monotonic_ns()}.err")
        self._err = open(self.err_path, "wb")
        self._lines = []                      # (monotonic time, text)
        self._cond = threading.Condition()
        self._eof = False
        self.popen = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                      stderr=self._err, env=env,
                                      preexec_fn=_child_setup(nofile))
        self.pid = self.popen.pid
        _live.add(self)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        for raw in self.popen.stdout:
            line = raw.decode(errors="replace").rstrip("\n")
            with self._cond:
                self._lines.append((time.monotonic(), line))
                self._cond.notify_all()
        with self._cond:
            self._eof = True
            self._cond.notify_all()

    # -- output ----------------------------------------------------------------------------

    def timed_lines(self, start=0):
        with self._cond:
            return list(self._lines[start:])

    def lines(self, start=0):
        return [text for _, text in self.timed_lines(start)]

    def mark(self):
        """Index of the next line: pass it as start to look only at what comes later."""
        with self._cond:
            return len(self._lines)

    def matching(self, pattern, start=0, since=None, until=None):
        """[(time, match)] of lines from `start` (and within [since, until]) matching."""
        rx = re.compile(pattern)
        out = []
        for t, text in self.timed_lines(start):
            if (since is not None and t < since) or (until is not None and t > until):
                continue
            m = rx.search(text)
            if m:
                out.append((t, m))
        return out

    def wait_line(self, pattern, timeout, start=0):
        """The first line from `start` on matching pattern: (index, time, re.Match).
        Raises AssertionError with the process's recent output after timeout seconds."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout * SLOW
        i = start
        with self._cond:
            while True:
                while i < len(self._lines):
                    t, text = self._lines[i]
                    m = rx.search(text)
                    if m:
                        return i, t, m
                    i += 1
                left = deadline - time.monotonic()
                if left <= 0 or self._eof:
                    break
                self._cond.wait(min(left, 0.2))
        raise AssertionError(f"{self.label} (pid {self.pid}): no line matching {pattern!r} "
                             f"within {timeout * SLOW:.1f} s" +
                             ("" if self.alive() else f"; it exited with {self.popen.returncode}") +
                             "\n" + self.tail())

    def stderr_text(self):
        if not self._err.closed:
            self._err.flush()
        try:
            with open(self.err_path, "r", errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def tail(self, n=20):
        lines = self.lines()
        events = sum(1 for x in lines if x.startswith("event "))
        lines = [x for x in lines if not x.startswith("event ")]   # counted, not shown
        out = "\n".join(f"    {x}" for x in lines[-n:])
        if events:
            out += f"\n    ({events} event lines not shown)"
        err = "\n".join(f"    {x}" for x in self.stderr_text().splitlines()[-n:])
        return f"  --- {self.label} stdout (last {n}):\n{out}\n  --- {self.label} stderr:\n{err}"

    def sanitizer_report(self):
        """The first lines of an ASan/UBSan/LSan report on stderr, or in the file ASan
        writes instead when ASAN_OPTIONS has log_path=P (P.PID, or P.NAME.PID with
        log_exe_name=1, as ./run test sets it), or ''."""
        texts = [self.stderr_text()]
        log_path = _sanitizer_option("ASAN_OPTIONS", "log_path")
        if log_path and log_path not in ("stderr", "stdout"):
            name = os.path.basename(self.argv[0])
            for path in (f"{log_path}.{name}.{self.pid}", f"{log_path}.{self.pid}"):
                try:
                    with open(path, "r", errors="replace") as f:
                        texts.append(f.read())
                except OSError:
                    pass
        for text in texts:
            for key in ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:"):
                i = text.find(key)
                if i >= 0:
                    return text[max(0, text.rfind("\n", 0, i) + 1):][:3000]
        return ""

    # -- life ------------------------------------------------------------------------------

    def alive(self):
        return self.popen.poll() is None

    def kill(self):
        if self.popen.poll() is None:
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self._reap(5)

    def stop(self, timeout=5.0):
        """SIGTERM (a node sends LEAVE and prints its stats), then SIGKILL after timeout.
        Returns the exit code."""
        if self.popen.poll() is None:
            try:
                os.kill(self.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.popen.wait(timeout * SLOW)
            except subprocess.TimeoutExpired:
                pass
        self.kill()
        return self.popen.returncode

    def _reap(self, timeout):
        try:
            self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            return
        self._reader.join(timeout)
        self.popen.stdout.close()
        _live.discard(self)
        if not self._err.closed:
            self._err.close()


class Node(Proc):
    """A zmesh-node: its `started NAME ID mesh=M pub=... router=...` line parsed."""

    STARTED = r"^started (\S+) ([0-9a-f]{32}) mesh=(\S+) pub=tcp://([^ ]+):(\d+) router=tcp://([^ ]+):(\d+)"

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.name = self.id = self.host = None
        self.pub_port = self.router_port = None

    def wait_started(self, timeout=10):
        _, _, m = self.wait_line(self.STARTED, timeout)
        self.name, self.id, self.host = m.group(1), m.group(2), m.group(4)
        self.pub_port, self.router_port = int(m.group(5)), int(m.group(7))
        return self

    @property
    def pub(self):
        return f"tcp://{self.host}:{self.pub_port}"

    @property
    def router(self):
        return f"tcp://{self.host}:{self.router_port}"

    @property
    def id_bytes(self):
        return bytes.fromhex(self.id)

    def wait_joined(self, other, timeout=10, start=0):
        """Waits for `joined NAME ID` of another Node (or `joined NAME` for a name)."""
        pattern = (rf"^joined {re.escape(other)} " if isinstance(other, str)
                   else rf"^joined {re.escape(other.name)} {other.id}\b")
        return self.wait_line(pattern, timeout, start)

    def peer_lines(self, kind, name, start=0, since=None, until=None):
        """[(time, match)] of `KIND NAME ID ...` lines (joined, evasive, recovered, left)."""
        return self.matching(rf"^{kind} {re.escape(name)} ([0-9a-f]{{32}})(?: (\S+))?",
                             start, since, until)

    def stats(self):
        """The `stats {...}` line printed at exit, as a dict, or None."""
        import json
        for text in reversed(self.lines()):
            if text.startswith("stats "):
                return json.loads(text[6:])
        return None


# ---------------------------------------------------------------------------------------------
# Test case base: one mesh, one beacon port, every process reaped
# ---------------------------------------------------------------------------------------------

class MeshTest(unittest.TestCase):
    """Each test gets its own mesh id, beacon port and directory; every process it starts is
    stopped in tearDown (and killed at exit whatever happens), and on failure the tail of
    each process's output is printed."""

    def setUp(self):
        self.t0 = time.monotonic()
        self.dir = tempfile.mkdtemp(prefix="zmesh-adv-")
        short = self.id().split(".")[-1][:24]
        self.mesh = f"adv-{short}-{os.getpid()}-{os.urandom(3).hex()}"[:64]
        self.beacon_port = free_udp_port()
        self.procs = []
        self.secret_path = None
        say(f"\n== {self.id()}: mesh {self.mesh}, beacon port {self.beacon_port}")

    def tearDown(self):
        outcome = getattr(self, "_outcome", None)
        result = getattr(outcome, "result", None)
        failed = result is not None and any(
            t is self for t, _ in result.failures + result.errors)
        for p in self.procs:
            p.stop(timeout=3.0)
        if failed:
            for p in self.procs:
                say(f"  {p.label} (pid {p.pid}, exit {p.popen.returncode})\n{p.tail(25)}")
        reports = [(p.label, p.sanitizer_report()) for p in self.procs]
        for label, rep in reports:
            if rep:
                say(f"  SANITIZER REPORT from {label}:\n{rep}")
        shutil.rmtree(self.dir, ignore_errors=True)
        say(f"  ({self.id().split('.')[-1]}: {time.monotonic() - self.t0:.1f} s)")
        # A report fails the test even when the attack it makes did not need the process.
        reported = [label for label, rep in reports if rep]
        if reported:
            self.fail(f"sanitizer report from {', '.join(reported)} (printed above)")

    # -- processes -------------------------------------------------------------------------

    def local_args(self):
        return ["--mesh", self.mesh, "--interface", "lo", "--bind", "127.0.0.1",
                "--beacon-port", str(self.beacon_port)]

    def secured_args(self, key_name, allow_dir=None):
        return ["--key", os.path.join(self.dir, "keys", key_name + ".key"),
                "--allow", allow_dir or os.path.join(self.dir, "allow"),
                "--mesh-secret", self.secret_path]

    def node(self, name, *args, nofile=None, started=True, label=None):
        argv = [os.path.join(BIN, "zmesh-node"), "--name", name, *self.local_args(),
                *map(str, args)]
        n = Node(self.dir, label or name, argv, nofile=nofile)
        self.procs.append(n)
        if started:
            n.wait_started()
        return n

    def call(self, method, args_json="null", peer=None, secured=None, timeout_ms=3000,
             wait_s=10):
        """`zmesh call` as a short-lived member: (exit code, stdout, stderr)."""
        argv = [os.path.join(BIN, "zmesh"), "call", *self.local_args(),
                "--timeout", str(int(timeout_ms * SLOW)), "--wait", str(int(wait_s * SLOW))]
        if peer:
            argv += ["--peer", peer]
        if secured:
            argv += self.secured_args(secured)
        argv += [method, args_json]
        try:
            r = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                               timeout=(wait_s + timeout_ms / 1000) * SLOW + 10,
                               preexec_fn=_child_setup(None))
        except subprocess.TimeoutExpired as e:
            return -1, e.stdout or "", f"zmesh call did not exit: {e.stderr or ''}"
        return r.returncode, r.stdout.strip(), r.stderr.strip()

    def assert_call_ok(self, method, args_json, peer=None, secured=None):
        rc, out, err = self.call(method, args_json, peer=peer, secured=secured)
        self.assertEqual(rc, 0, f"zmesh call {method} {args_json} --peer {peer} failed: {err}")
        return out

    # -- secured mesh ----------------------------------------------------------------------

    def keygen(self, name, allow=True):
        """Writes keys/NAME.key and NAME.pub; copies the .pub into allow/ if asked.
        Returns (Z85 public key, 16-byte id)."""
        keys = os.path.join(self.dir, "keys")
        os.makedirs(keys, exist_ok=True)
        os.makedirs(os.path.join(self.dir, "allow"), exist_ok=True)
        subprocess.run([os.path.join(BIN, "zmesh"), "keygen", "--out", os.path.join(keys, name)],
                       check=True, capture_output=True)
        if allow:
            shutil.copy(os.path.join(keys, name + ".pub"), os.path.join(self.dir, "allow"))
        return public_key(os.path.join(keys, name + ".pub"))

    def make_mesh_secret(self):
        self.secret_path = os.path.join(self.dir, "mesh.secret")
        subprocess.run([os.path.join(BIN, "zmesh"), "keygen", "--mesh-secret", self.secret_path],
                       check=True, capture_output=True)
        return read_mesh_secret(self.secret_path)

    # -- checks ----------------------------------------------------------------------------

    def assert_alive(self, *nodes):
        for n in nodes:
            self.assertTrue(n.alive(), f"{n.label} died (exit {n.popen.returncode})\n{n.tail()}")

    def assert_no_sanitizer_report(self):
        for p in self.procs:
            rep = p.sanitizer_report()
            self.assertEqual(rep, "", f"sanitizer report from {p.label}:\n{rep}")

    def assert_rss_growth(self, what, before_kib, after_kib, bound_mib=16):
        """Prints the figure; asserts growth within bound_mib unless sanitized."""
        growth = (after_kib - before_kib) / 1024
        say(f"  {what}: RSS before {before_kib / 1024:.1f} MiB, peak/after "
            f"{after_kib / 1024:.1f} MiB (+{growth:.1f} MiB, bound +{bound_mib} MiB"
            f"{'; not asserted under sanitizers' if SANITIZED else ''})")
        if not SANITIZED:
            self.assertLessEqual(growth, bound_mib, f"{what}: RSS grew {growth:.1f} MiB")


def public_key(pub_path):
    """(Z85 text, 16-byte node id) of a .pub file: a secured node's id is its key's start."""
    from zmq.utils import z85
    with open(pub_path) as f:
        text = f.read().split()[0]
    return text, z85.decode(text)[:16]


def read_mesh_secret(path):
    """As the node reads it (PROTOCOL.md §5.4): the first line without surrounding blanks."""
    with open(path, "rb") as f:
        return f.readline().strip(b" \t\r\n")


# ---------------------------------------------------------------------------------------------
# The attacker's tools
# ---------------------------------------------------------------------------------------------

def random_id():
    nid = bytes(16)
    while not any(nid):
        nid = os.urandom(16)
    return nid


MACS = {
    # PROTOCOL.md §5.4 says HMAC-SHA256; libsodium's generic crypto_auth is HMAC-SHA-512-256.
    "HMAC-SHA256": lambda key, data: hmac.new(key, data, hashlib.sha256).digest(),
    "HMAC-SHA-512-256": lambda key, data: hmac.new(key, data, hashlib.sha512).digest()[:32],
}


def encode_beacon(mesh, nid, name, host, pub_port, router_port, secret=None, sent_us=None,
                  mac="HMAC-SHA256", asking=False):
    """A beacon datagram (PROTOCOL.md §5.1), signed (§5.4) when a secret is given; an
    observer's question (§5.2 rule 4) with asking."""
    fields = [mesh, nid, name, host, pub_port, router_port]
    if secret is not None:
        fields.append(sent_us if sent_us is not None else time.time_ns() // 1000)
    flags = (1 if secret is not None else 0) | (2 if asking else 0)
    d = b"ZMSH" + bytes([wire.VERSION, flags]) + msgpack.packb(fields, use_bin_type=True)
    if secret is not None:
        d += MACS[mac](secret, d)
    return d


class BeaconSender:
    """Sends datagrams to the beacon group on loopback, as a node on this host would: every
    node listening on that port gets each one (a unicast would reach only one of them, the
    port being shared with SO_REUSEPORT)."""

    def __init__(self, port):
        self.port = port
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton("127.0.0.1"))
        self.sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 1)
        self.sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP, 1)
        self.sent = 0

    def send(self, datagram):
        self.sock.sendto(datagram, (BEACON_GROUP, self.port))
        self.sent += 1

    def close(self):
        self.sock.close()


class Listener:
    """A TCP port that only counts who connects: where a forged beacon points to see
    whether the node believed it (a node dials the ROUTER endpoint of a new id)."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.sock.setblocking(False)
        self.port = self.sock.getsockname()[1]
        self.accepted = []

    def poll(self):
        try:
            while True:
                c, _ = self.sock.accept()
                self.accepted.append(c)
        except BlockingIOError:
            pass
        return len(self.accepted)

    def close(self):
        for c in self.accepted:
            c.close()
        self.sock.close()


def beacon_is_believed(sender, make_beacon, timeout=4.0):
    """Sends make_beacon(listener_port) every 200 ms until the node dials the listener.
    Returns True if it did within timeout seconds."""
    listener = Listener()
    try:
        deadline = time.monotonic() + timeout * SLOW
        while time.monotonic() < deadline:
            sender.send(make_beacon(listener.port))
            if wait_for(listener.poll, 0.2 / SLOW, interval=0.01):
                return True
        return False
    finally:
        listener.close()


# Raw ZMTP 3.0 (rfc.zeromq.org/spec/23), for what libzmq's own client would refuse to send.

def zmtp_greeting(mechanism=b"NULL", as_server=False):
    return (b"\xff" + b"\x00" * 8 + b"\x7f" + b"\x03\x00" + mechanism.ljust(20, b"\x00")
            + bytes([1 if as_server else 0]) + b"\x00" * 31)


def zmtp_command(name, properties=()):
    body = bytes([len(name)]) + name
    for k, v in properties:
        body += bytes([len(k)]) + k + struct.pack(">I", len(v)) + v
    if len(body) < 256:
        return bytes([0x04, len(body)]) + body
    return b"\x06" + struct.pack(">Q", len(body)) + body


def zmtp_frame_header(size, more=False):
    flags = 0x01 if more else 0x00
    if size < 256:
        return bytes([flags, size])
    return bytes([flags | 0x02]) + struct.pack(">Q", size)


def wait_closed(sock, timeout):
    """True once the peer has closed the connection (EOF or reset) within timeout seconds.
    Whatever it sends meanwhile (its READY, say) is read and dropped."""
    deadline = time.monotonic() + timeout * SLOW
    while time.monotonic() < deadline:
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            if not sock.recv(65536):
                return True
        except (ConnectionResetError, BrokenPipeError):
            return True
        except OSError:   # timeout
            return False
    return False


def zmtp_connect(host, port, socket_type=b"DEALER", identity=None, timeout=5.0):
    """A TCP connection that has sent the NULL greeting and READY; the peer's greeting is
    read. Returns the socket."""
    s = socket.create_connection((host, port), timeout=timeout)
    props = [(b"Socket-Type", socket_type)]
    if identity is not None:
        props.append((b"Identity", identity))
    s.sendall(zmtp_greeting() + zmtp_command(b"READY", props))
    got = b""
    while len(got) < 64:
        chunk = s.recv(64 - len(got))
        if not chunk:
            raise ConnectionError("the peer closed during the ZMTP greeting")
        got += chunk
    return s
