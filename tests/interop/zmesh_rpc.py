"""RPC for the foreign client (zmesh_client.py): serving, calling and both sides' frames
(PROTOCOL.md §10). A mixin of Client, which owns the sockets and the state it uses."""

import time

import msgpack
import zmq

from zmesh_wire import (BAD_REQUEST, HANDLER_FAILED, MAX_RPC_MESSAGE, MAX_RPC_SIZE, NO_METHOD,
                        REPLY, REQUEST, ProtocolError, RpcError, check_payload, encode_rpc,
                        split_rpc)
from zmesh_wire import _is_str, _is_uint


class Rpc:
    """Client's §10 half: self.methods, self.pending, self.next_call_id, self.peers and
    self.counters are Client's, as are poll() and _send_hello()."""

    def serve(self, method, handler):
        """Advertise a method; §7.7: a changed list goes to every dialled peer at once."""
        if not 1 <= len(method.encode()) <= 128:
            raise ValueError("a method name is 1..128 bytes")
        self.methods[method] = handler
        for p in self.peers.values():
            want = p.state == "connecting"
            self._send_hello(p.dealer, want_reply=want)

    def call(self, method, args=None, peer=None, timeout=2.0):
        """Call method (§10.6) on a named peer id, or on a joined non-observer provider.
        Polls until the REPLY, the timeout, or the server leaving; returns the result or
        raises RpcError."""
        if peer is None:
            cands = sorted((p for p in self.peers.values() if p.state == "joined"
                            and not p.observer and method in p.services), key=lambda p: p.id)
            if not cands:
                raise RpcError(None, f"no provider of '{method}'")
            # Fewest calls outstanding (rule 2); this client has one at a time, so the first.
            peer = cands[0].id
        p = self.peers.get(peer)
        if p is None or p.state not in ("joined", "evasive"):
            raise RpcError(None, "peer is not joined")
        call_id = self.next_call_id
        self.next_call_id += 1
        frame = encode_rpc(REQUEST, [call_id, method, int(timeout * 1000)],
                           msgpack.packb(args, use_bin_type=True))
        self.pending[call_id] = [peer, None]
        try:
            p.dealer.send(frame, flags=zmq.NOBLOCK)
        except zmq.Again:
            del self.pending[call_id]
            raise RpcError(None, "peer queue full") from None
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                self.poll(min(0.05, max(0.0, deadline - time.monotonic())))
                entry = self.pending[call_id]
                if entry[1] is not None:
                    code, message, result = entry[1]
                    if code != 0:
                        raise RpcError(code, message)
                    return result
                if peer not in self.peers:  # §10.6 rule 3: the server left
                    raise RpcError(None, "server left")
            raise RpcError(None, "timed out")
        finally:
            self.pending.pop(call_id, None)

    def _on_request(self, p, frame):
        """§10.7."""
        try:
            h, args = split_rpc(frame)
            if not (type(h) is list and len(h) >= 3 and _is_uint(h[0])
                    and _is_str(h[1], 1, 128) and _is_uint(h[2])):
                raise ProtocolError("bad request header")
        except ProtocolError:
            return  # rule 1: no id to answer
        call_id, method = h[0], h[1]
        try:
            arg = check_payload(args, MAX_RPC_SIZE)
        except ProtocolError as e:
            return self._reply(p, call_id, BAD_REQUEST, str(e))
        handler = self.methods.get(method)
        if handler is None:
            return self._reply(p, call_id, NO_METHOD, f"no method '{method}'")
        try:
            result = msgpack.packb(handler(arg), use_bin_type=True)
        except RpcError as e:
            code = e.code if e.code else HANDLER_FAILED  # never an error with code 0
            return self._reply(p, call_id, code, e.message)
        except Exception as e:
            return self._reply(p, call_id, HANDLER_FAILED, f"{type(e).__name__}: {e}")
        if len(result) > MAX_RPC_SIZE:
            return self._reply(p, call_id, HANDLER_FAILED, "result too large")
        self._reply(p, call_id, 0, "", result)

    def _reply(self, p, call_id, code, message, result=b"\xc0"):
        message = message.encode()[:MAX_RPC_MESSAGE].decode("utf-8", "ignore")
        frame = encode_rpc(REPLY, [call_id, code, message], result)
        try:  # back on the caller's link, through our ROUTER (§10.1)
            self.router.send_multipart([p.routing, frame], flags=zmq.NOBLOCK)
        except zmq.ZMQError:  # its queue is full, or it is no longer connected
            pass

    def _on_reply(self, p, frame):
        """§10.6 rules 4 and 5."""
        try:
            h, result = split_rpc(frame)
            if not (type(h) is list and len(h) >= 3 and _is_uint(h[0]) and type(h[1]) is int
                    and _is_str(h[2], 0, MAX_RPC_MESSAGE)):
                raise ProtocolError("bad reply header")
        except ProtocolError:
            self.counters["frames_invalid"] += 1
            return
        entry = self.pending.get(h[0])
        if entry is None or entry[0] != p.id or entry[1] is not None:
            return  # stray reply
        if h[1] != 0:
            entry[1] = (h[1], h[2], None)
            return
        try:
            entry[1] = (0, "", check_payload(result, MAX_RPC_SIZE))
        except ProtocolError as e:
            self.counters["frames_invalid"] += 1
            entry[1] = (HANDLER_FAILED, f"bad result: {e}", None)
