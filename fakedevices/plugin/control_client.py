"""Talking to a node's plugin through its fault-control API: typed calls (`PluginControl`) over a transport
that carries one request and its answer: the plugin's unix socket on this host, a socket reached through
a kind node's root, or a virtual node's control that answers from its slices."""

from __future__ import annotations

import json
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar

from fakedevices.plugin.control_protocol import (
    DEFAULT_FAILURE,
    Clear,
    ControlRequest,
    DelayPrepares,
    DriverBug,
    FailPrepares,
    Kill,
    Message,
    PluginStatus,
    SetHealth,
    Status,
)
from fakedevices.plugin.faults import FaultState

R = TypeVar("R")
TIMEOUT_S = 10.0
PROBE_TIMEOUT_S = 5.0


class ControlError(RuntimeError):
    pass


class ControlTransport(Protocol):
    def call(self, message: Message, timeout: float) -> Message:
        """Send one request; its answer when it is `ok`, else `ControlError` with the refusal."""
        ...


@dataclass(frozen=True)
class UnixSocketTransport:
    """The plugin's control socket on this host."""

    path: Path

    def call(self, message: Message, timeout: float) -> Message:
        if not self.path.exists():
            raise ControlError(
                f"no plugin control socket at {self.path}: is `drafarm plugin run` running for this node? "
                "(pass --control-socket or --state-dir if it runs elsewhere)"
            )
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout)
            sock.connect(str(self.path))
            sock.sendall(json.dumps(message).encode() + b"\n")
            buffer = b""
            while not buffer.endswith(b"\n"):
                chunk = sock.recv(65536)
                if not chunk:
                    break
                buffer += chunk
        if not buffer:
            raise ControlError(f"the plugin closed the control connection at {self.path} without answering")
        response: dict[str, Any] = json.loads(buffer.splitlines()[0])
        if not response.get("ok"):
            raise ControlError(str(response.get("error", response)))
        return response


class PluginControl:
    """One node's fault control: each operation of `control_protocol` as a method with a typed answer."""

    def __init__(self, transport: ControlTransport) -> None:
        self.transport = transport

    @classmethod
    def at(cls, control_socket: Path) -> PluginControl:
        return cls(UnixSocketTransport(control_socket))

    def send(self, request: ControlRequest[R], timeout: float = TIMEOUT_S) -> R:
        answer = self.transport.call(request.to_message(), timeout)
        try:
            return request.answer.read(answer)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ControlError(
                f"the answer to {request.OP} is not what this drafarm expects ({exc}): {answer}"
            ) from exc

    def status(self, timeout: float = TIMEOUT_S) -> PluginStatus:
        return self.send(Status(), timeout)

    def available(self) -> bool:
        """Whether the plugin answers control requests now."""
        try:
            self.status(PROBE_TIMEOUT_S)
        except (ControlError, OSError, ValueError):
            return False
        return True

    def set_health(self, device: str, health: str, reason: str = "") -> list[str]:
        """The devices whose health changed (every device of the card, for a card's name)."""
        return self.send(SetHealth(device, health, reason))

    def fail_prepares(
        self, count: int = 1, *, permanent: bool = False, message: str = DEFAULT_FAILURE, namespace: str = ""
    ) -> FaultState:
        return self.send(FailPrepares(count, permanent, message, namespace))

    def delay_prepares(self, seconds: float, *, namespace: str = "") -> FaultState:
        return self.send(DelayPrepares(seconds, namespace))

    def driver_bug(self, bug: str, on: bool = True) -> FaultState:
        return self.send(DriverBug(bug, on))

    def clear(self) -> FaultState:
        return self.send(Clear())

    def kill(self) -> None:
        self.send(Kill())
