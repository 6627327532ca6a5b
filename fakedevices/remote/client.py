"""The plugin's side of host control: one signed request per short TCP connection to a device's host."""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import Callable
from typing import Any

from fakedevices.emulator.errors import EmulatorError, SessionError
from fakedevices.emulator.protocol import MAX_LINE_BYTES, Message, ProtocolError, decode, encode
from fakedevices.remote import auth

DEFAULT_TIMEOUT_S = 3.0


class HostUnreachable(EmulatorError):
    """The device's host did not answer (down, not started yet, or not routed from here)."""


class HostRefused(SessionError):
    """The device's host answered `ok: false`."""


class HostControl:
    def __init__(
        self,
        host: str,
        port: int,
        key: bytes,
        *,
        timeout: float = DEFAULT_TIMEOUT_S,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.host = host
        self.port = port
        self.key = key
        self.timeout = timeout
        self._clock = clock

    @property
    def where(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"

    def call(self, op: str, **fields: Any) -> Message:
        """The host's `ok: true` answer; `HostUnreachable` or `HostRefused` (both name the address)."""
        request = auth.sign({"op": op, **fields}, self.key, self._clock())
        try:
            line = self._exchange(encode(request))
        except OSError as exc:
            raise HostUnreachable(
                f"the device host at {self.where} cannot be reached ({exc.strerror or exc}); "
                "start it (python -m fakedevices.remote) or check the pool's network"
            ) from exc
        if not line:
            raise HostUnreachable(f"the device host at {self.where} closed the connection without an answer")
        try:
            answer = decode(line)
        except ProtocolError as exc:
            raise HostUnreachable(f"the device host at {self.where} answered something else: {exc}") from exc
        if answer.get("ok") is not True:
            raise HostRefused(f"the device host at {self.where} refused {op}: {answer.get('error', answer)}")
        return answer

    def _exchange(self, data: bytes) -> bytes:
        with socket.create_connection((self.host, self.port), timeout=self.timeout) as sock:
            sock.sendall(data)
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_WR)
            with sock.makefile("rb") as reader:
                return reader.readline(MAX_LINE_BYTES + 1)
