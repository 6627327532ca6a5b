"""A raw peer of the device protocol: bytes in, reply lines out, over the emulator's real sockets."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

REPLY_TIMEOUT = 10.0


class RawPeer:
    """One connection to a unix socket path or a TCP ``(host, port)``; every read waits at most 10 s."""

    def __init__(self, where: Path | tuple[str, int]) -> None:
        if isinstance(where, Path):
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.sock.settimeout(REPLY_TIMEOUT)
            self.sock.connect(str(where))
        else:
            self.sock = socket.create_connection(where, timeout=REPLY_TIMEOUT)
        self.reader = self.sock.makefile("rb")

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def line(self) -> bytes:
        """The next reply line (b"" when the server closed the connection)."""
        return self.reader.readline()

    def reply(self) -> dict[str, Any]:
        line = self.line()
        assert line.endswith(b"\n"), f"no reply line, got {line[:200]!r}"
        value: dict[str, Any] = json.loads(line)
        return value

    def ask(self, request: dict[str, Any]) -> dict[str, Any]:
        self.send(json.dumps(request).encode() + b"\n")
        return self.reply()

    def close(self) -> None:
        self.reader.close()
        self.sock.close()

    def __enter__(self) -> RawPeer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
