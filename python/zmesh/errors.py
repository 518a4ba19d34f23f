# SPDX-License-Identifier: MPL-2.0
"""errors: why a call failed, with the kinds the C++ node uses (its rpc_errc), so a Python
caller handles failures as a C++ one does."""

from __future__ import annotations

import enum

from .wire import BAD_REQUEST, BUSY, HANDLER_FAILED, NO_METHOD


class ErrorKind(str, enum.Enum):
    """Why a call failed. Every kind but REMOTE and BUSY is decided by the caller's own node.
    The values are the C++ names, so ``e.kind == "timeout"`` holds too."""

    TIMEOUT = "timeout"          # no reply within the call's timeout
    NO_PROVIDER = "no_provider"  # no joined peer serves the method (or the named peer is unknown)
    PEER_LOST = "peer_lost"      # the peer left while the call was pending: failed at once
    REMOTE = "remote"            # the server answered with an error: see code and message
    BUSY = "busy"                # the server's queue was full (code -32000): nothing ran; retry
    DECODE = "decode"            # the result is not one msgpack object
    STOPPED = "stopped"          # this node stopped (or never started) before the reply came
    INVALID = "invalid"          # refused locally: bad method name, arguments too large

    def __str__(self) -> str:
        return self.value


class RpcError(Exception):
    """A failed call, and what a handler raises to answer with an error of its own.

    ``RpcError(409, "out of stock")`` is a remote error with an application code (a
    handler raises it; the caller gets kind REMOTE, that code and message).
    ``RpcError(ErrorKind.TIMEOUT, "no reply in time")`` is a local failure (code 0).
    ``RpcError(ErrorKind.BUSY, "server busy")`` is a server's refusal, with its code -32000.
    A handler's RpcError of any kind but REMOTE answers -32603 (handler failed), as in C++.
    """

    kind: ErrorKind
    code: int       # the server's code (REMOTE, and -32000 with BUSY); 0 for a local failure
    message: str

    def __init__(self, kind_or_code: ErrorKind | int, message: str = "") -> None:
        if isinstance(kind_or_code, ErrorKind):
            # Busy comes from a server, always with its code (C++: rpc_error(busy, code, ...)).
            self.kind = kind_or_code
            self.code = BUSY if kind_or_code is ErrorKind.BUSY else 0
        elif type(kind_or_code) is int:
            self.kind, self.code = ErrorKind.REMOTE, kind_or_code
        else:
            raise TypeError("RpcError takes an ErrorKind or an int code")
        self.message = message
        super().__init__(f"remote: code {self.code}: {message}" if self.kind is ErrorKind.REMOTE
                         else f"{self.kind.value}: {message}")

    # The codes a server sends by itself (PROTOCOL.md §10.5), for callers to test against.
    NO_METHOD = NO_METHOD
    BAD_REQUEST = BAD_REQUEST
    HANDLER_FAILED = HANDLER_FAILED
    BUSY = BUSY


class SetupError(RuntimeError):
    """The node cannot start: a socket cannot be bound, no interface fits, a key file is
    missing or readable by others. The message is one line."""
