"""A blocking line-JSON connection to an emulated device (stdlib only)."""

from __future__ import annotations

import errno
import json
import socket
import time
from types import TracebackType
from typing import Any

Message = dict[str, Any]
MAX_RESPONSE_BYTES = 1 << 20  # the protocol's line limit
SOCKET_PATIENCE_S = 2.0
"""How long a device socket that is missing or refuses connections is tried again before the client gives
up: when a plugin instance takes a device over from one that died, its socket is back within a moment."""
_RETRY_EVERY_S = 0.05
_PASSING = (errno.ENOENT, errno.ECONNREFUSED)


class ClientError(Exception):
    """Cannot reach the device or it broke the protocol (exit code 2)."""


class DeviceError(Exception):
    """The device answered ``{"ok": false}`` (exit code 1)."""

    def __init__(self, message: str, response: Message | None = None) -> None:
        super().__init__(message)
        self.response = response or {}


def parse_addr(addr: str) -> tuple[str, int]:
    """``host:port`` or ``[v6]:port`` -> ``(host, port)``."""
    host, sep, port = addr.rpartition(":")
    if not sep or not port.isdigit() or not host:
        raise ClientError(f"address {addr!r} must be host:port")
    return host.strip("[]"), int(port)


class Connection:
    def __init__(self, sock: socket.socket, where: str) -> None:
        self.where = where
        self._sock = sock
        self._rfile = sock.makefile("rb")

    @classmethod
    def unix(cls, path: str, timeout: float) -> Connection:
        """Connect, trying a socket that is missing or refuses again for `SOCKET_PATIENCE_S` (at most
        `timeout`)."""
        deadline = time.monotonic() + min(SOCKET_PATIENCE_S, timeout)
        while True:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.settimeout(timeout)
            try:
                sock.connect(path)
                return cls(sock, path)
            except OSError as exc:
                sock.close()
                if exc.errno not in _PASSING or time.monotonic() >= deadline:
                    raise ClientError(f"cannot connect to device socket {path}: {exc}") from exc
            time.sleep(_RETRY_EVERY_S)

    @classmethod
    def tcp(cls, addr: str, timeout: float) -> Connection:
        host, port = parse_addr(addr)
        try:
            sock = socket.create_connection((host, port), timeout=timeout)
        except OSError as exc:
            raise ClientError(f"cannot connect to camera at {addr}: {exc}") from exc
        sock.settimeout(timeout)
        return cls(sock, addr)

    def send(self, message: Message) -> None:
        try:
            self._sock.sendall(json.dumps(message).encode() + b"\n")
        except OSError as exc:
            raise ClientError(f"{self.where}: send failed: {exc}") from exc

    def receive(self) -> Message | None:
        """The next response, ``None`` when the device closed the connection."""
        try:
            line = self._rfile.readline(MAX_RESPONSE_BYTES + 1)
        except OSError as exc:
            raise ClientError(f"{self.where}: receive failed: {exc}") from exc
        if not line:
            return None
        if len(line) > MAX_RESPONSE_BYTES:
            raise ClientError(f"{self.where}: response line longer than {MAX_RESPONSE_BYTES} bytes")
        try:
            value = json.loads(line)
        except RecursionError:
            raise ClientError(f"{self.where}: response nests too deeply to be a device's answer") from None
        except ValueError:
            raise ClientError(f"{self.where}: not a JSON response: {line[:200]!r}") from None
        if not isinstance(value, dict):
            raise ClientError(f"{self.where}: response is not a JSON object")
        return value

    def request(self, message: Message) -> Message:
        """Send and return the response; ``DeviceError`` when the device refuses."""
        self.send(message)
        response = self.receive()
        if response is None:
            raise DeviceError(f"{self.where}: device closed the connection without answering")
        if not response.get("ok"):
            raise DeviceError(str(response.get("error", "device refused the request")), response)
        return response

    def close(self) -> None:
        try:
            self._rfile.close()
        finally:
            self._sock.close()

    def __enter__(self) -> Connection:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
