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
import math
from typing import Any

PROTOCOL_VERSION = 1
MAX_LINE_BYTES = 1 << 20
MAX_DEPTH = 32
MAX_SHOWN_CHARS = 80

Message = dict[str, Any]


class ProtocolError(Exception):
    """A line on the wire is not a valid request or response."""


def encode(message: Message) -> bytes:
    """One message as one line of compact JSON."""
    return json.dumps(message, separators=(",", ":"), sort_keys=False).encode() + b"\n"


def shown(value: Any) -> str:
    """A value as an error message may quote it: at most `MAX_SHOWN_CHARS` characters."""
    if isinstance(value, str):
        text = repr(value[: MAX_SHOWN_CHARS + 1])
    elif isinstance(value, dict | list):
        text = f"a JSON {'object' if isinstance(value, dict) else 'array'} of {len(value)} item(s)"
    else:
        text = repr(value)
    return text if len(text) <= MAX_SHOWN_CHARS else text[: MAX_SHOWN_CHARS - 3] + "..."


def too_deep(value: Any, limit: int = MAX_DEPTH) -> bool:
    """Whether ``value`` nests arrays and objects more than ``limit`` levels (checked without recursion)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is None:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


def decode(line: bytes) -> Message:
    """Parse one line into a JSON object; raise ``ProtocolError`` naming the problem."""
    if len(line) > MAX_LINE_BYTES:
        raise ProtocolError(f"request line longer than {MAX_LINE_BYTES} bytes; send at most 1 MiB per line")
    try:
        value = json.loads(line)
    except RecursionError:
        raise ProtocolError(f"request nests deeper than {MAX_DEPTH} levels; send a flatter object") from None
    except (UnicodeDecodeError, ValueError) as exc:
        # ValueError covers JSONDecodeError and integers of more digits than Python converts.
        reason = str(exc)[:200]
        raise ProtocolError(f"request is not JSON ({reason}); send one JSON object per line") from None
    if not isinstance(value, dict):
        raise ProtocolError(f"request must be a JSON object, got {type(value).__name__}")
    if too_deep(value):
        raise ProtocolError(f"request nests deeper than {MAX_DEPTH} levels; send a flatter object")
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
        raise ProtocolError(f'field "{name}" must be an integer, got {shown(value)}')
    if value < minimum:
        raise ProtocolError(f'field "{name}" must be >= {minimum}, got {shown(value)}')
    return value


def float_field(request: Message, name: str, *, default: float | None = None, minimum: float = 0.0) -> float:
    """A finite number field of a request, validated."""
    value = request.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ProtocolError(f'field "{name}" must be a number, got {shown(value)}')
    try:
        number = float(value)
    except OverflowError:
        number = math.inf
    if not math.isfinite(number):
        raise ProtocolError(f'field "{name}" must be a finite number, got {shown(value)}')
    if number < minimum:
        raise ProtocolError(f'field "{name}" must be >= {minimum}, got {shown(value)}')
    return number
