# SPDX-License-Identifier: MPL-2.0
"""rpc: calls (PROTOCOL.md §10): the caller's pending calls (provider choice, deadlines,
correlation) and the server's methods, run on the handler thread. Reactor thread, except
_run, which is the handler thread's."""

from __future__ import annotations

import concurrent.futures
import heapq
import logging
import time
from typing import Any, Callable, Optional, Union

import zmq

from . import wire
from .core import Core
from .errors import ErrorKind, RpcError
from .peers import JOINED, Peer
from .wire import BAD_REQUEST, BUSY, HANDLER_FAILED, NO_METHOD, ProtocolError

log = logging.getLogger("zmesh")

MAX_SERVER_TIMEOUT_MS = 24 * 3600 * 1000   # §10.7 rule 5: the cap on a request's deadline
PeerRef = Union[bytes, str, None]          # a node id, its 32 hex digits, or a name


class _Call:
    __slots__ = ("peer", "future", "deadline")

    def __init__(self, peer: bytes, future: concurrent.futures.Future, deadline: float):
        self.peer, self.future, self.deadline = peer, future, deadline


def _settle(future: concurrent.futures.Future, result: Any = None,
            error: Optional[RpcError] = None) -> None:
    """Completes a call's future, unless its owner cancelled it meanwhile."""
    try:
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result)
    except concurrent.futures.InvalidStateError:
        pass


class Rpc:
    def __init__(self, core: Core) -> None:
        self.core, self.o, self.c = core, core.options, core.counters
        self.methods: dict[str, Callable[[Any], Any]] = {}
        self.pending: dict[int, _Call] = {}
        self._deadlines: list[tuple[float, int]] = []   # a heap; entries of calls over linger
        self._next_id = 1 << 32
        self._last_chosen: dict[str, bytes] = {}
        # Requests waiting for the handler thread: each count is written by one thread only.
        self._submitted = 0
        self._taken = 0

    def method_names(self) -> list[str]:
        return list(self.methods)

    # --- serving (§10.7) ---------------------------------------------------------------------

    def serve(self, method: str, handler: Optional[Callable[[Any], Any]]) -> None:
        """Sets (or with None removes) a method's handler; §7.7: peers learn the new list."""
        before = set(self.methods)
        if handler is None:
            self.methods.pop(method, None)
        else:
            self.methods[method] = handler
        if set(self.methods) != before:
            self.core.mesh.services_changed()

    def on_request(self, p: Peer, rid: bytes, frame: bytes) -> None:
        try:
            call_id, method, timeout_ms, args = wire.decode_request(frame)
        except ProtocolError:
            self.c["rpc_bad_requests"] += 1   # rule 1: no id to answer
            return
        try:
            obj = wire.unpack_payload(args, self.o.max_rpc_size)
        except ProtocolError as e:
            self.c["rpc_bad_requests"] += 1
            return self._send_reply(rid, wire.encode_reply(call_id, BAD_REQUEST, f"bad arguments: {e}"))
        handler = self.methods.get(method)
        if handler is None:
            self.c["rpc_unknown_method"] += 1
            return self._send_reply(rid, wire.encode_reply(call_id, NO_METHOD, f"no method '{method}'"))
        if self._submitted - self._taken >= self.o.rpc_queue:
            self.c["rpc_busy"] += 1
            return self._send_reply(rid, wire.encode_reply(call_id, BUSY, "server busy"))
        if timeout_ms == 0:  # the caller has given up already
            self.c["rpc_expired"] += 1
            return
        deadline = time.monotonic() + min(timeout_ms, MAX_SERVER_TIMEOUT_MS) / 1000
        self._submitted += 1
        # Droppable: once this node stops, its callers hear of it by its LEAVE.
        self.core.delivery.submit(self._run, rid, call_id, handler, obj, deadline, droppable=True)

    def _run(self, rid: bytes, call_id: int, handler: Callable[[Any], Any], args: Any,
             deadline: float) -> None:
        """Handler thread: runs a method and hands its REPLY to the reactor."""
        self._taken += 1
        if time.monotonic() > deadline:  # rule 5: the caller has given up; its timeout answers
            self.c["rpc_expired"] += 1
            return
        code, message, result = 0, "", b"\xc0"
        try:
            result = wire.pack(handler(args))
            if len(result) > self.o.max_rpc_size:
                code, message = HANDLER_FAILED, f"result of {len(result)} bytes is over max_rpc_size"
        except RpcError as e:
            # A server never answers an error with code 0 (§10.5).
            code = e.code if e.kind is ErrorKind.REMOTE and e.code != 0 else HANDLER_FAILED
            message = e.message
        except Exception as e:
            code, message = HANDLER_FAILED, f"{type(e).__name__}: {e}"
        self.c["rpc_served"] += 1
        frame = wire.encode_reply(call_id, code, message, result if code == 0 else b"\xc0")
        self.core.reactor.post(lambda: self._send_reply(rid, frame))

    def _send_reply(self, rid: bytes, frame: bytes) -> None:
        """Rule 6: back on the connection the REQUEST came by."""
        try:
            self.core.mesh.router.send_multipart([rid, frame], zmq.NOBLOCK)
        except zmq.ZMQError:  # the caller is gone, or its queue is full
            self.c["rpc_replies_dropped"] += 1

    # --- calling (§10.6) ---------------------------------------------------------------------

    def _resolve(self, ref: PeerRef) -> Optional[Peer]:
        peers = self.core.mesh.peers
        if isinstance(ref, bytes):
            p = peers.get(ref)
        elif len(ref) == 32 and all(ch in "0123456789abcdef" for ch in ref):
            p = peers.get(bytes.fromhex(ref))
        else:
            named = [q for q in peers.values() if q.member and q.name == ref]
            if len(named) > 1:
                raise RpcError(ErrorKind.INVALID, f"{len(named)} members are named '{ref}': "
                               "name one by its id")
            p = named[0] if named else None
        return p if p is not None and p.member else None

    def _choose(self, method: str) -> Optional[Peer]:
        """Rule 2: a joined member serving it with the fewest calls outstanding from this
        node; among equals, the next in turn by id."""
        cands = [p for p in self.core.mesh.peers.values()
                 if p.state == JOINED and not p.observer and method in p.services]
        if not cands:
            return None
        low = min(p.outstanding for p in cands)
        ties = sorted((p for p in cands if p.outstanding == low), key=lambda p: p.id)
        last = self._last_chosen.get(method)
        chosen = next((p for p in ties if last is None or p.id > last), ties[0])
        self._last_chosen[method] = chosen.id
        return chosen

    def start_call(self, method: str, args: bytes, timeout: float, ref: PeerRef,
                   future: concurrent.futures.Future) -> None:
        self.c["rpc_calls"] += 1
        try:
            p = self._choose(method) if ref is None else self._resolve(ref)
        except RpcError as e:
            return _settle(future, error=e)
        if p is None:
            self.c["rpc_no_provider"] += 1
            what = f"no joined peer serves '{method}'" if ref is None else f"peer {ref!r} is not joined"
            return _settle(future, error=RpcError(ErrorKind.NO_PROVIDER, what))
        call_id = self._next_id
        self._next_id += 1
        timeout_ms = max(1, int(timeout * 1000))
        try:
            p.dealer.send(wire.encode_request(call_id, method, timeout_ms, args), zmq.NOBLOCK)
        except zmq.ZMQError:
            self.c["rpc_peer_lost"] += 1
            return _settle(future, error=RpcError(
                ErrorKind.PEER_LOST, f"send queue to {p.name} is full, or its connection ended"))
        p.sent_since_ping = True
        p.outstanding += 1
        deadline = time.monotonic() + timeout
        self.pending[call_id] = _Call(p.id, future, deadline)
        heapq.heappush(self._deadlines, (deadline, call_id))

    def _finish(self, call_id: int) -> Optional[_Call]:
        call = self.pending.pop(call_id, None)
        if call is not None:
            p = self.core.mesh.peers.get(call.peer)
            if p is not None:
                p.outstanding -= 1
        return call

    def on_reply(self, p: Peer, frame: bytes) -> None:
        """Rules 4 and 5."""
        try:
            call_id, code, message, result = wire.decode_reply(frame)
        except ProtocolError:
            self.c["frames_invalid"] += 1   # the call will time out
            return
        call = self.pending.get(call_id)
        if call is None or call.peer != p.id:
            self.c["rpc_stray_replies"] += 1
            return
        self._finish(call_id)
        if code != 0:
            self.c["rpc_remote_errors"] += 1
            # Busy is the server's state, not its handler's answer: the caller may try again.
            # As in C++, -32000 from the server called is BUSY (a handler's own -32000 too:
            # §10.5 says a caller cannot tell them apart).
            error = RpcError(ErrorKind.BUSY, message) if code == BUSY else RpcError(code, message)
            return _settle(call.future, error=error)
        try:
            obj = wire.unpack_payload(result, self.o.max_rpc_size)
        except ProtocolError:
            self.c["frames_invalid"] += 1
            return _settle(call.future, error=RpcError(
                ErrorKind.DECODE, f"the result from {p.name} is not one msgpack object"))
        self.c["rpc_ok"] += 1
        _settle(call.future, obj)

    def on_peer_removed(self, p: Peer) -> None:
        """§10.6 rule 3: calls pending on a peer that left fail at once."""
        for call_id in [i for i, c in self.pending.items() if c.peer == p.id]:
            call = self.pending.pop(call_id)
            self.c["rpc_peer_lost"] += 1
            _settle(call.future, error=RpcError(ErrorKind.PEER_LOST, f"{p.name} left"))

    def fail_all(self, kind: ErrorKind, message: str) -> None:
        for call_id in list(self.pending):
            _settle(self.pending.pop(call_id).future, error=RpcError(kind, message))

    def next_deadline(self) -> float:
        while self._deadlines and self._deadlines[0][1] not in self.pending:
            heapq.heappop(self._deadlines)
        return self._deadlines[0][0] if self._deadlines else float("inf")

    def on_timer(self, now: float) -> None:
        while self._deadlines and self._deadlines[0][0] <= now:
            _, call_id = heapq.heappop(self._deadlines)
            call = self._finish(call_id)
            if call is not None:
                self.c["rpc_timeouts"] += 1
                _settle(call.future, error=RpcError(ErrorKind.TIMEOUT, "no reply in time"))
