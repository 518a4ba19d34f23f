# SPDX-License-Identifier: MPL-2.0
"""reactor: the node's loop (wait on sockets, run timers, run commands) and its handler
thread. One reactor thread owns every socket of a node; other threads hand it work as
commands through a queue and a wake-up pipe, never touching a socket themselves (ZeroMQ
sockets are not thread-safe). Application code runs on the handler thread, one piece at a
time, so a slow handler never delays heartbeats."""

from __future__ import annotations

import collections
import logging
import os
import queue
import threading
import time
from typing import Any, Callable, Protocol

import zmq

log = logging.getLogger("zmesh")

# The longest the loop sleeps: timeouts are checked at least this often (§8.3).
MAX_WAIT = 0.1


class Component(Protocol):
    def next_deadline(self) -> float: ...
    def on_timer(self, now: float) -> None: ...


class Reactor:
    """The loop. watch() and unwatch() are for the reactor thread; post() for any thread."""

    def __init__(self) -> None:
        self.poller = zmq.Poller()
        self._readers: dict[Any, Callable[[], None]] = {}
        self._commands: collections.deque[Callable[[], None]] = collections.deque()
        self._wake_r, self._wake_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        self.poller.register(self._wake_r, zmq.POLLIN)
        self.components: list[Component] = []
        self._stopping = False
        self._closed = False
        self._post_lock = threading.Lock()   # no write to the pipe once it is closed
        self.thread: threading.Thread | None = None

    def watch(self, sock: Any, on_readable: Callable[[], None]) -> None:
        """Calls on_readable on this thread whenever sock (a zmq socket or a file
        descriptor) has input."""
        self._readers[sock] = on_readable
        self.poller.register(sock, zmq.POLLIN)

    def unwatch(self, sock: Any) -> None:
        if self._readers.pop(sock, None) is not None:
            self.poller.unregister(sock)

    def watching(self, sock: Any) -> bool:
        return sock in self._readers

    def post(self, command: Callable[[], None]) -> None:
        """Runs command on the reactor thread, in the order posted; dropped once the
        reactor is closed. Any thread."""
        with self._post_lock:
            if self._closed:
                return
            self._commands.append(command)
            try:
                os.write(self._wake_w, b"\x01")
            except BlockingIOError:  # the pipe is full: the reactor has wake-ups pending anyway
                pass

    def in_reactor(self) -> bool:
        return threading.current_thread() is self.thread

    def stop_soon(self) -> None:
        """Ends run() after the commands posted before this one. Reactor thread."""
        self._stopping = True

    def run(self) -> None:
        """The loop, until stop_soon(). An exception in a component is logged, never
        allowed to end the loop: the node must survive any input (§11.3)."""
        self.thread = threading.current_thread()
        while not self._stopping:
            now = time.monotonic()
            deadline = min((c.next_deadline() for c in self.components), default=now + MAX_WAIT)
            wait = min(max(deadline - now, 0.0), MAX_WAIT)
            try:
                ready = self.poller.poll(int(wait * 1000) if wait > 0 else 0)
            except zmq.ZMQError as e:
                if e.errno == zmq.EINTR:
                    continue
                raise
            for sock, _ in ready:
                if sock == self._wake_r:
                    self._drain_wake()
                    continue
                handler = self._readers.get(sock)
                if handler is not None:
                    self._guard(handler)
            self._run_commands()
            now = time.monotonic()
            for c in self.components:
                if c.next_deadline() <= now:
                    self._guard(c.on_timer, now)

    def _drain_wake(self) -> None:
        try:
            while os.read(self._wake_r, 4096):
                pass
        except BlockingIOError:
            pass

    def _run_commands(self) -> None:
        for _ in range(len(self._commands)):  # those posted meanwhile wait for the next turn
            self._guard(self._commands.popleft())
            if self._stopping:
                return

    @staticmethod
    def _guard(fn: Callable, *args: Any) -> None:
        try:
            fn(*args)
        except Exception:
            log.exception("zmesh: internal error on the reactor (dropped, node continues)")

    def close(self) -> None:
        with self._post_lock:
            self._closed = True
            self.poller.unregister(self._wake_r)
            os.close(self._wake_r)
            os.close(self._wake_w)


class Delivery:
    """The handler thread: runs application code (event handlers, served methods, peer
    event handlers) one at a time, in the order submitted."""

    def __init__(self, counters: dict) -> None:
        self.counters = counters
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._dropping = False
        self.thread = threading.Thread(target=self._run, name="zmesh-handlers", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def submit(self, fn: Callable, *args: Any, droppable: bool = False) -> None:
        """Queues fn(*args). A droppable item (an event) is skipped once stop has begun."""
        self._queue.put((fn, args, droppable))

    def backlog(self) -> int:
        return self._queue.qsize()

    def is_current(self) -> bool:
        return threading.current_thread() is self.thread

    def _run(self) -> None:
        while True:
            fn, args, droppable = self._queue.get()
            if fn is None:
                return
            if droppable and self._dropping:
                continue
            try:
                fn(*args)
            except Exception:
                self.counters["handler_errors"] += 1
                log.exception("zmesh: a handler raised (counted in handler_errors)")

    def stop(self) -> None:
        """Runs what is queued but events, then ends the thread."""
        self._dropping = True
        self._queue.put((None, (), False))
        if self.thread.is_alive() and not self.is_current():
            self.thread.join()
