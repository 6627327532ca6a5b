"""The drafarm device protocol: line-delimited JSON over a stream socket.

Every request is one JSON object on one line, ``{"op": "<name>", ...}``; every response is one JSON
object on one line, either ``{"ok": true, ...}`` or ``{"ok": false, "error": "<what went wrong and
what to do>"}``. A connection carries any number of requests, answered in order. A refused request
never closes the connection; a malformed line (not JSON, not an object, no ``op``) is answered with an
error too. The server closes the connection when the client half-closes or disconnects, when the
session is closed on the host side, or when the emulator stops.

GPU and FPGA devices serve one unix socket per session (``<state_dir>/<device>/sessions/<id>/session.sock``)
plus a whole-device socket (``<state_dir>/<device>/device.sock``) that answers ``info`` and ``health``.
Cameras serve TCP; the first request on a connection names the session with ``"token"`` (any request
may carry it; it is remembered for the connection).

Common ops (all kinds): ``info`` (identity, health, the session's limits), ``health``, ``ping``.
GPU: ``alloc {bytes}``, ``free {handle}``, ``run {job, n}``.
FPGA: ``run {input}``.
Camera: ``stream {frames?, seconds?}`` (then one ``{"ok": true, "frame": {...}}`` line per frame and a
final ``{"ok": true, "end": true, ...}``), ``ptz {pan, tilt, zoom}``, ``release-control``.

docs/emulator-protocol.md is the full reference.
"""

from __future__ import annotations

import json
from typing import Any

PROTOCOL_VERSION = 1
MAX_LINE_BYTES = 1 << 20

Message = dict[str, Any]


class ProtocolError(Exception):
    """A line on the wire is not a valid request or response."""


def encode(message: Message) -> bytes:
    """One message as one line of compact JSON."""
    return json.dumps(message, separators=(",", ":"), sort_keys=False).encode() + b"\n"


def decode(line: bytes) -> Message:
    """Parse one line into a JSON object; raise ``ProtocolError`` naming the problem."""
    if len(line) > MAX_LINE_BYTES:
        raise ProtocolError(f"request line longer than {MAX_LINE_BYTES} bytes")
    try:
        value = json.loads(line)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ProtocolError(f"request is not JSON ({exc}); send one JSON object per line") from None
    if not isinstance(value, dict):
        raise ProtocolError(f"request must be a JSON object, got {type(value).__name__}")
    return value


def ok(**fields: Any) -> Message:
    """A success response."""
    return {"ok": True, **fields}


def error(message: str) -> Message:
    """A refusal."""
    return {"ok": False, "error": message}


def require_op(request: Message) -> str:
    """The request's ``op``, or ``ProtocolError`` when missing."""
    op = request.get("op")
    if not isinstance(op, str) or not op:
        raise ProtocolError('request has no "op"; send e.g. {"op": "info"}')
    return op


def int_field(request: Message, name: str, *, default: int | None = None, minimum: int = 0) -> int:
    """An integer field of a request, validated."""
    value = request.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ProtocolError(f'field "{name}" must be an integer, got {value!r}')
    if value < minimum:
        raise ProtocolError(f'field "{name}" must be >= {minimum}, got {value}')
    return value


def float_field(request: Message, name: str, *, default: float | None = None, minimum: float = 0.0) -> float:
    """A number field of a request, validated."""
    value = request.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ProtocolError(f'field "{name}" must be a number, got {value!r}')
    if value < minimum:
        raise ProtocolError(f'field "{name}" must be >= {minimum}, got {value}')
    return float(value)
