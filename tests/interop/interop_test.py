#!/usr/bin/python3
"""Interop test: the Python client of zmesh_client.py (written from PROTOCOL.md alone)
against real C++ processes.

usage: /usr/bin/python3 tests/interop/interop_test.py BUILD/bin

Everything stays on this host: C++ tools get --interface lo --bind 127.0.0.1
--beacon-interval 0 and join by seed, the Python client has no beacon socket at all.
Exit status 0 on success; otherwise a FAIL line says which step failed, followed by the
output of the C++ processes.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import zmesh_client as zc  # noqa: E402

STEP_TIMEOUT = 10.0      # the most any one step may take, in seconds
EXPIRED = 3.0            # the spec's expired timeout (§8.3, Appendix A)


class Failure(Exception):
    pass


def free_port():
    """Bind port 0 on loopback, read the port the OS chose, close."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Processes:
    """C++ processes started by this test, each with its output in a file; all are ended by
    PID in stop_all()."""

    def __init__(self, bindir, workdir):
        self.bindir, self.workdir = bindir, workdir
        self.procs = []   # (label, Popen, stdout path, stderr path)

    def start(self, label, program, *args):
        out = os.path.join(self.workdir, label + ".out")
        err = os.path.join(self.workdir, label + ".err")
        cmd = [os.path.join(self.bindir, program), *map(str, args)]
        with open(out, "wb") as fo, open(err, "wb") as fe:
            p = subprocess.Popen(cmd, stdout=fo, stderr=fe, stdin=subprocess.DEVNULL)
        self.procs.append((label, p, out, err))
        print(f"  started {label} (pid {p.pid}): {program} {' '.join(map(str, args))}")
        return p

    def output(self, p):
        for _, q, out, _ in self.procs:
            if q is p:
                with open(out, "r", errors="replace") as f:
                    return f.read()
        return ""

    def stop_all(self):
        for label, p, _, _ in self.procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 3
        for label, p, _, _ in self.procs:
            try:
                p.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()

    def dump(self):
        for label, p, out, err in self.procs:
            for path in (out, err):
                try:
                    with open(path, "r", errors="replace") as f:
                        text = f.read()
                except OSError:
                    continue
                tail = "\n".join(text.splitlines()[-25:])
                print(f"----- {label} (pid {p.pid}, exit {p.returncode}) {os.path.basename(path)}\n{tail}")


def wait(client, what, predicate, timeout=STEP_TIMEOUT):
    """Poll the client (so it keeps answering PINGs) until predicate() holds."""
    v = client.wait_until(predicate, timeout)
    if not v:
        raise Failure(f"timed out after {timeout:.0f} s waiting for {what}")
    return v


def wait_exit(client, procs, p, label, timeout=STEP_TIMEOUT):
    """Poll the client until process p exits; it must exit 0."""
    wait(client, f"{label} to exit", lambda: p.poll() is not None, timeout)
    if p.returncode != 0:
        raise Failure(f"{label} exited with status {p.returncode}")
    return procs.output(p)


def run(bindir, workdir):
    procs = Processes(bindir, workdir)
    mesh = f"interop-{os.getpid()}-{os.urandom(3).hex()}"
    router_port = free_port()
    seed = f"tcp://127.0.0.1:{router_port}"
    # Flags every C++ process gets: loopback only, no beacons, join by seed.
    local = ["--mesh", mesh, "--interface", "lo", "--bind", "127.0.0.1", "--beacon-interval", "0"]
    client = None
    t_start = time.monotonic()
    try:
        print(f"mesh {mesh}, seed {seed}")
        node = procs.start("cxx-node", "zmesh-node", "--name", "cxx-node", *local,
                           "--router-port", router_port, "--serve", "echo", "--serve", "stats")
        deadline = time.monotonic() + STEP_TIMEOUT
        while "started cxx-node" not in procs.output(node):
            if node.poll() is not None or time.monotonic() > deadline:
                raise Failure("zmesh-node did not start")
            time.sleep(0.02)   # no client yet to poll; this waits on a condition with a deadline

        # 1. Join by seed (§7.5): both sides must see the other joined.
        print("step 1: join the C++ node by seed")
        client = zc.Client(mesh, "py-client", seeds=[seed], log=lambda m: print("  [py]", m))
        client.serve("py.add", lambda args: args[0] + args[1])
        client.subscribe("interop.")
        cxx = wait(client, "the C++ node to join the Python client",
                   lambda: client.peer_by_name("cxx-node"))
        line = f"joined py-client {client.id.hex()}"
        wait(client, f"'{line}' from zmesh-node", lambda: line in procs.output(node))
        print(f"  ok: joined each other (node id {cxx.id.hex()})")

        # 2. The monitor (an observer, §1.2) sees the Python client as a joined member with
        #    its services (HELLO, §6.3), subscriptions (SUBS, §6.7) and counters (STATS, §6.9).
        print("step 2: zmesh-monitor sees the Python client")
        # With no beacons, `--once` may settle on an empty mesh before its seed answered
        # (it waits only for 500 ms of stability): retry, a few times, a run that did not
        # even see the seed node.
        for attempt in range(1, 4):
            mon = procs.start(f"monitor{attempt}", "zmesh-monitor", *local, "--seed", seed,
                              "--once", "--json", "--wait", "8")
            text = wait_exit(client, procs, mon, "zmesh-monitor")
            doc = json.loads(text.strip().splitlines()[-1])
            if any(p["id"] == cxx.id.hex() for p in doc["peers"]):
                break
            print(f"  monitor run {attempt} saw no member yet: {text.strip()}")
        me = [p for p in doc["peers"] if p["id"] == client.id.hex()]
        if not me:
            raise Failure(f"zmesh-monitor does not list py-client: {text}")
        me = me[0]
        if (me["name"], me["state"]) != ("py-client", "joined"):
            raise Failure(f"monitor shows py-client as {me['name']} {me['state']}")
        if me["services"] != ["py.add"] or me["subscriptions"] != ["interop."]:
            raise Failure(f"monitor shows services {me['services']}, subscriptions {me['subscriptions']}")
        if me["counters"] is None or "events_out" not in me["counters"]:
            raise Failure("monitor got no STATS from py-client")
        print(f"  ok: {me['name']} {me['state']} services={me['services']} "
              f"subscriptions={me['subscriptions']} events_out={me['counters']['events_out']}")

        # 3. Events from a C++ publisher (§9): it waits until the member subscribed to the
        # topic (the Python client) has said so in SUBS.
        print("step 3: receive events from `zmesh pub`")
        count = 5
        pub = procs.start("pub", "zmesh", "pub", *local, "--seed", seed, "--name", "cxx-pub",
                          "--wait-peers", "1", "--wait", "20", "--count", count, "interop.from-cxx",
                          '{"hello": "from C++", "list": [1, 2.5, null, true]}')
        got = lambda: [e for e in client.events if e.sender_name == "cxx-pub"]
        wait(client, f"{count} events from cxx-pub", lambda: len(got()) >= count)
        wait_exit(client, procs, pub, "zmesh pub")
        evs = got()
        if [e.seq for e in evs] != list(range(1, count + 1)):
            raise Failure(f"seqs {[e.seq for e in evs]}, expected 1..{count}")
        want = {"hello": "from C++", "list": [1, 2.5, None, True]}
        for e in evs:
            if e.topic != "interop.from-cxx" or e.payload != want:
                raise Failure(f"unexpected event {e!r}")
        if client.counters["events_invalid"] or client.counters["events_gaps"]:
            raise Failure(f"client counters {client.counters}")
        print(f"  ok: {len(evs)} events, seq 1..{count}, payload {evs[0].payload}")

        # 4. Events to a C++ subscriber: publish only once its SUBS (§9.8) covers the topic.
        print("step 4: publish events that `zmesh sub --json` receives")
        topic = "interop.from-py"
        sub = procs.start("sub", "zmesh", "sub", *local, "--seed", seed, "--name", "cxx-sub",
                          "--json", "--count", "3", "--timeout", "20", "interop.from-py")

        def sub_ready():
            p = client.peer_by_name("cxx-sub")
            return p and p.subscriptions is not None and any(
                topic.startswith(x) for x in p.subscriptions)
        wait(client, "cxx-sub to join and send SUBS covering the topic", sub_ready)
        print(f"  cxx-sub subscriptions: {client.peer_by_name('cxx-sub').subscriptions}")
        payloads = [{"n": i, "text": "from Python", "bin": None} for i in (1, 2, 3)]
        seqs = [client.publish(topic, pl) for pl in payloads]
        lines = wait_exit(client, procs, sub, "zmesh sub").strip().splitlines()
        if len(lines) != 3:
            raise Failure(f"zmesh sub printed {len(lines)} lines: {lines}")
        for line, pl, seq in zip(lines, payloads, seqs):
            j = json.loads(line)
            if (j["topic"], j["seq"], j["payload"], j["sender"]["id"], j["sender"]["name"]) != (
                    topic, seq, pl, client.id.hex(), "py-client"):
                raise Failure(f"zmesh sub printed {line}")
        print(f"  ok: zmesh sub printed seq {[json.loads(x)['seq'] for x in lines]}")

        # 5. Call the C++ node's echo (§10).
        print("step 5: call echo on the C++ node")
        args = {"text": "ping", "n": [1, -2, 3.25, None, False], "nested": {"k": "v"}}
        result = client.call("echo", args, peer=cxx.id, timeout=3.0)
        if result != args:
            raise Failure(f"echo returned {result!r}, expected {args!r}")
        try:   # the spec's error path: an unknown method answers -32601 (§10.5)
            client.call("no.such.method", 1, peer=cxx.id, timeout=3.0)
            raise Failure("calling an unknown method succeeded")
        except zc.RpcError as e:
            if e.code != zc.NO_METHOD:
                raise Failure(f"unknown method failed with {e}, expected code {zc.NO_METHOD}")
        print(f"  ok: echo returned {result}; unknown method -> {zc.NO_METHOD}")

        # 6. `zmesh call` invokes the Python client's py.add.
        print("step 6: `zmesh call py.add [2, 40]`")
        call = procs.start("call", "zmesh", "call", *local, "--seed", seed, "--name", "cxx-call",
                           "--timeout", "3000", "py.add", "[2, 40]")
        out = wait_exit(client, procs, call, "zmesh call").strip()
        if out != "42":
            raise Failure(f"zmesh call printed {out!r}, expected 42")
        print(f"  ok: zmesh call printed {out}")

        # The node's own counters (its built-in "stats" method): nothing the Python client
        # sent it, on any connection, was dropped as malformed.
        stats = client.call("stats", None, peer=cxx.id, timeout=3.0)
        bad = {k: stats.get(k) for k in ("frames_invalid", "frames_bad_version",
                                         "frames_unknown_type", "frames_unknown_sender",
                                         "events_invalid", "events_unknown_sender",
                                         "handshake_timeouts")}
        if any(bad.values()):
            raise Failure(f"the C++ node dropped traffic: {bad}")
        print(f"  ok: node counters {bad}")

        # 7. Kill the node without LEAVE: the client must see it left within the expiry
        #    (§8.3; with the SUB monitor of §8.4 it is about one reconnect interval).
        print("step 7: kill the C++ node, expect it left")
        node.send_signal(signal.SIGKILL)
        t0 = time.monotonic()
        left = lambda: [e for e in client.peer_events if e[0] == "left" and e[1] == "cxx-node"]
        wait(client, "the Python client to see cxx-node left", left, EXPIRED + 2.0)
        elapsed = time.monotonic() - t0
        if elapsed > EXPIRED + 0.5:
            raise Failure(f"cxx-node seen left only after {elapsed:.2f} s")
        print(f"  ok: cxx-node left ({left()[0][3]}) {elapsed * 1000:.0f} ms after the kill")
        print(f"PASS interop ({time.monotonic() - t_start:.1f} s)")
        return 0
    except Exception as e:
        print(f"FAIL: {e}" if isinstance(e, Failure) else f"FAIL: {type(e).__name__}: {e}")
        if client is not None:
            print(f"  client peers {client.peers}, counters {client.counters}")
        procs.dump()
        return 1
    finally:
        if client is not None:
            client.close(linger=0.2)
        procs.stop_all()


def main():
    if len(sys.argv) != 2 or not os.path.isfile(os.path.join(sys.argv[1], "zmesh-node")):
        print("usage: interop_test.py BUILD/bin   (the directory holding zmesh-node and zmesh)")
        return 2
    with tempfile.TemporaryDirectory(prefix="zmesh-interop-") as workdir:
        return run(os.path.abspath(sys.argv[1]), workdir)


if __name__ == "__main__":
    sys.exit(main())
