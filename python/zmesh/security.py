# SPDX-License-Identifier: MPL-2.0
"""security: what a secured node (PROTOCOL.md §12.2) needs beyond the wire: key files, the
allowlist of members' public keys, and the ZAP handler that admits only them.

Files are those of the C++ tools (`zmesh keygen`): NAME.key holds a Z85 secret key (mode
0600), NAME.pub its Z85 public key, an allow directory the members' *.pub files, and a mesh
secret file one line of at least 16 characters (mode 0600).
"""

from __future__ import annotations

import os
import stat

import zmq
from zmq.utils import z85

from .beacon import MIN_SECRET_SIZE

KEY_PART = 8            # the bytes of a secured node's id that come from its key
ZAP_ENDPOINT = "inproc://zeromq.zap.01"
ZAP_DOMAIN = b"zmesh"


def decode_key(text: str) -> bytes | None:
    """The 32 bytes of a Z85 key, or None when text is not one."""
    if len(text) != 40:
        return None
    try:
        key = z85.decode(text.encode("ascii"))
    except Exception:
        return None
    return key if len(key) == 32 else None


def _check_private(path: str, what: str) -> None:
    # A secret readable by others is refused: better to stop than to run on a leaked key.
    try:
        mode = os.stat(path).st_mode
    except OSError as e:
        raise ValueError(f"{what} {path}: {e.strerror}") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ValueError(f"{what} {path} is readable by others: chmod 600 it (or make a new one)")


def _write_new(path: str, text: str, mode: int) -> None:
    # O_EXCL: an existing key is never overwritten by accident.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(fd, "w") as f:
        f.write(text + "\n")


def write_keypair(path: str) -> str:
    """Writes a fresh keypair to path.key (mode 0600) and path.pub, as `zmesh keygen --out
    path` does. Returns the Z85 public key. Raises OSError when a file exists."""
    public, secret = zmq.curve_keypair()
    _write_new(path + ".key", secret.decode(), 0o600)
    _write_new(path + ".pub", public.decode(), 0o644)
    return public.decode()


def write_mesh_secret(path: str) -> None:
    """Writes a fresh mesh secret (32 random bytes as 64 hex digits, mode 0600), as `zmesh
    keygen --mesh-secret path` does."""
    _write_new(path, os.urandom(32).hex(), 0o600)


def read_secret_key(path: str) -> tuple[bytes, bytes]:
    """(secret, public) Z85 keys, as bytes for zmq's options, from a NAME.key file. Raises
    ValueError with a one-line reason."""
    _check_private(path, "secret key")
    with open(path) as f:
        words = f.read().split()
    secret = words[0] if words else ""
    if decode_key(secret) is None:
        raise ValueError(f"secret key {path} holds no Z85 key")
    return secret.encode(), zmq.curve_public(secret.encode())


def read_public_key(path: str) -> str | None:
    """The Z85 key in a *.pub file, or None when it holds none."""
    try:
        with open(path) as f:
            words = f.read().split()
    except OSError:
        return None
    return words[0] if words and decode_key(words[0]) is not None else None


def read_mesh_secret(path: str) -> bytes:
    """The mesh secret (§5.4): the file's first line without surrounding blanks. Raises
    ValueError with a one-line reason."""
    _check_private(path, "mesh secret")
    with open(path, "rb") as f:
        secret = f.readline().strip(b" \t\r\n")
    if len(secret) < MIN_SECRET_SIZE:
        raise ValueError(f"mesh secret {path} is shorter than {MIN_SECRET_SIZE} characters "
                         "(zmesh keygen --mesh-secret FILE makes one)")
    return secret


def new_id_for_key(public: bytes) -> bytes:
    """A fresh id for a secured node: its key's first 8 bytes, then 8 random bytes (this
    process's instance, so replicas sharing a key are distinct members)."""
    return decode_key(public.decode())[:KEY_PART] + os.urandom(16 - KEY_PART)


class Allowlist:
    """The members' public keys: given ones, and the *.pub files of a directory, re-read
    when the directory changes. Keys are found by the first 8 bytes of an id."""

    def __init__(self, keys: list[str], directory: str | None) -> None:
        self._fixed = {}
        for k in keys:
            raw = decode_key(k)
            if raw is None:
                raise ValueError(f"allowed key '{k}' is not a Z85 public key")
            self._fixed[raw[:KEY_PART]] = k
        self.directory = directory
        if directory is not None and not os.path.isdir(directory):
            raise ValueError(f"allow directory {directory} does not exist")
        self._signature = None
        self._by_part: dict[bytes, str] = dict(self._fixed)
        self._revoked: set[str] = set()
        self.reload()

    def _dir_signature(self) -> tuple:
        try:
            entries = sorted(os.scandir(self.directory), key=lambda e: e.name)
            return tuple((e.name, e.stat().st_size, e.stat().st_mtime_ns) for e in entries
                         if e.name.endswith(".pub"))
        except OSError:
            return ()

    def reload(self) -> bool:
        """Re-reads the directory if it changed. Returns whether it did; keys no longer
        allowed are kept for take_revoked()."""
        if self.directory is None:
            return False
        sig = self._dir_signature()
        if sig == self._signature:
            return False
        self._signature = sig
        by_part = dict(self._fixed)
        for name, _, _ in sig:
            key = read_public_key(os.path.join(self.directory, name))
            if key is not None:
                by_part.setdefault(decode_key(key)[:KEY_PART], key)
        gone = set(self._by_part.values()) - set(by_part.values())
        self._by_part = by_part
        self._revoked = (self._revoked | gone) - set(by_part.values())
        return True

    def take_revoked(self) -> set[str]:
        """The keys removed since the last call."""
        gone, self._revoked = self._revoked, set()
        return gone

    def key_for(self, nid: bytes) -> str | None:
        """The allowed Z85 key of a node whose id is nid, or None. A miss reads the
        directory again first: a member added a moment ago is not refused for that."""
        key = self._by_part.get(nid[:KEY_PART])
        if key is None and self.reload():
            key = self._by_part.get(nid[:KEY_PART])
        return key

    def allows(self, key: str) -> bool:
        """Whether key is allowed; a miss reads the directory again first."""
        raw = decode_key(key)
        if raw is None:
            return False
        if self._by_part.get(raw[:KEY_PART]) != key:
            self.reload()
        return self._by_part.get(raw[:KEY_PART]) == key

    def __len__(self) -> int:
        return len(self._by_part)


def key_matches_id(user_id: str | None, nid: bytes) -> bool:
    """§12.2 item 5: the connection's key (its ZAP user id) starts as the claimed id does."""
    raw = decode_key(user_id or "")
    return raw is not None and raw[:KEY_PART] == nid[:KEY_PART]


class ZapHandler:
    """Answers libzmq's ZAP requests (RFC 27) for the node's CURVE servers, on the reactor:
    200 with the client's Z85 key as user id when it is allowed, 400 otherwise."""

    def __init__(self, ctx: zmq.Context, allowlist: Allowlist, counters: dict) -> None:
        self.allowlist, self.counters = allowlist, counters
        self.sock = ctx.socket(zmq.REP)
        self.sock.setsockopt(zmq.LINGER, 0)
        self.sock.bind(ZAP_ENDPOINT)

    def on_readable(self) -> None:
        while True:
            try:
                req = self.sock.recv_multipart(zmq.NOBLOCK)
            except zmq.Again:
                return
            # version, request id, domain, address, identity, mechanism, credentials...
            request_id = req[1] if len(req) > 1 else b""
            key = None
            if len(req) >= 7 and req[0] == b"1.0" and req[5] == b"CURVE" and len(req[6]) == 32:
                key = z85.encode(req[6]).decode()
            if key is not None and self.allowlist.allows(key):
                reply = [b"1.0", request_id, b"200", b"OK", key.encode(), b""]
            else:
                self.counters["zap_denied"] += 1
                reply = [b"1.0", request_id, b"400", b"not allowed", b"", b""]
            self.sock.send_multipart(reply)

    def close(self) -> None:
        self.sock.close(0)
