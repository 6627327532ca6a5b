"""The host-control protocol: line-delimited JSON like the device protocol, on TCP at each device's own
address and `CONTROL_PORT`, every request signed with the pool key (`auth.py`).

| op | request fields | answer fields |
|---|---|---|
| `ping` | | `pong` |
| `status` | `device` | `device, kind, health, reason, changed_at, sessions` |
| `open` | `device, session, limits` | `endpoint {kind, device, session, address [host, port], token}`, `env` |
| `close` | `device, session` | `closed` |
| `sessions` | `device` | `sessions` |
| `set-health` | `device, health, reason` | `health, reason, changed_at` |
"""

from __future__ import annotations

from typing import Any

from fakedevices.emulator.base import SessionEndpoint
from fakedevices.emulator.protocol import Message, ProtocolError, shown

CONTROL_PORT = 8555
OPS = ("ping", "status", "open", "close", "sessions", "set-health")
MAX_SESSION_ID = 253


def string_field(request: Message, name: str, *, maximum: int = MAX_SESSION_ID, default: str | None = None) -> str:
    value = request.get(name, default)
    if not isinstance(value, str) or (not value and default is None) or len(value) > maximum:
        raise ProtocolError(f'field "{name}" must be a string of 1 to {maximum} characters, got {shown(value)}')
    return value


def endpoint_to_wire(endpoint: SessionEndpoint) -> Message:
    return {
        "kind": endpoint.kind,
        "device": endpoint.device,
        "session": endpoint.session_id,
        "address": list(endpoint.address) if endpoint.address is not None else None,
        "token": endpoint.token,
    }


def endpoint_from_wire(value: Any) -> SessionEndpoint:
    """The endpoint in an `open` answer; `ProtocolError` when it is not one."""
    if not isinstance(value, dict):
        raise ProtocolError(f"the answer's endpoint is not an object: {shown(value)}")
    address = value.get("address")
    token = value.get("token")
    if (
        not isinstance(address, list)
        or len(address) != 2
        or not isinstance(address[0], str)
        or isinstance(address[1], bool)
        or not isinstance(address[1], int)
        or not isinstance(token, str)
    ):
        raise ProtocolError(f"the answer's endpoint has no address [host, port] and token: {shown(value)}")
    return SessionEndpoint(
        kind=string_field(value, "kind"),
        device=string_field(value, "device"),
        session_id=string_field(value, "session"),
        address=(address[0], address[1]),
        token=token,
    )
