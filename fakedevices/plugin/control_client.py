"""Talking to a running plugin's fault-control socket."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any


class ControlError(RuntimeError):
    pass


def call(path: Path, request: dict[str, Any], timeout: float = 10.0) -> dict[str, Any]:
    if not path.exists():
        raise ControlError(
            f"no plugin control socket at {path}: is `drafarm plugin run` running for this node? "
            "(pass --control-socket or --state-dir if it runs elsewhere)"
        )
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        sock.connect(str(path))
        sock.sendall(json.dumps(request).encode() + b"\n")
        buffer = b""
        while not buffer.endswith(b"\n"):
            chunk = sock.recv(65536)
            if not chunk:
                break
            buffer += chunk
    if not buffer:
        raise ControlError(f"the plugin closed the control connection at {path} without answering")
    response: dict[str, Any] = json.loads(buffer.splitlines()[0])
    if not response.get("ok"):
        raise ControlError(str(response.get("error", response)))
    return response
