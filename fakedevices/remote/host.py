"""The device host: network-placed emulators served outside the plugin, each on its own address at its
kind's port, and beside each one a host-control server (`ops.py`) at that address and the control port.

The plugins of the pool's nodes open and close sessions and read and set health through the control
servers; containers use the devices directly, as when the plugin served them. Sessions live in this process
(the plugins open them again after it restarts); each device's session key lives in its state dir, so
tokens stay valid across restarts of this process on the same state dir.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from fakedevices.emulator.base import Emulator
from fakedevices.emulator.errors import RequestError
from fakedevices.emulator.health import Health
from fakedevices.emulator.protocol import Message, ProtocolError, ok, require_op, shown
from fakedevices.emulator.runner import EmulatorRunner
from fakedevices.emulator.server import Connection, LineServer, serve_requests
from fakedevices.remote import auth
from fakedevices.remote.ops import OPS, endpoint_to_wire, string_field

log = logging.getLogger(__name__)

MAX_REASON = 1024


@dataclass(frozen=True)
class HostedDevice:
    emulator: Emulator[Any]
    address: str
    """Where its control server listens (the device's own address)."""


class DeviceHost:
    def __init__(
        self,
        runner: EmulatorRunner,
        devices: Sequence[HostedDevice],
        key: bytes,
        control_port: int,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.runner = runner
        self.key = key
        self.control_port = control_port
        self._clock = clock
        self._by_address: dict[str, dict[str, Emulator[Any]]] = {}
        for device in devices:
            self._by_address.setdefault(device.address, {})[device.emulator.name] = device.emulator
        self._servers: list[LineServer] = []

    def start(self) -> None:
        self.runner.start()
        try:
            for address in self._by_address:
                server = LineServer.tcp(f"host-control-{address}", address, self.control_port, self._handler(address))
                self._servers.append(server)
                server.start()
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        for server in self._servers:
            server.stop()
        self._servers.clear()
        self.runner.stop()

    def control_addresses(self) -> list[tuple[str, int]]:
        return [server.address for server in self._servers]

    def _handler(self, address: str) -> Callable[[Connection], None]:
        def handle(conn: Connection) -> None:
            serve_requests(conn, lambda _conn, request: self.answer(address, request))

        return handle

    def answer(self, address: str, request: Message) -> Message:
        """One control request received at `address`, answered (refusals raise for `serve_requests`)."""
        op = require_op(request)
        auth.check(request, self.key, self._clock())
        if op not in OPS:
            raise RequestError(f"host control: unknown op {shown(op)}; known ops: {', '.join(OPS)}")
        if op == "ping":
            return ok(pong=True)
        emulator = self._device(address, string_field(request, "device"))
        if op == "status":
            return ok(**self._status(emulator))
        if op == "open":
            limits = request.get("limits", {})
            if not isinstance(limits, dict):
                raise ProtocolError(f'field "limits" must be an object, got {shown(limits)}')
            endpoint = emulator.open_session(string_field(request, "session"), **limits)
            return ok(endpoint=endpoint_to_wire(endpoint), env=endpoint.container_env())
        if op == "close":
            session = string_field(request, "session")
            was_open = session in emulator.session_ids
            emulator.close_session(session)
            return ok(closed=was_open)
        if op == "sessions":
            return ok(sessions=emulator.session_ids)
        return self._set_health(emulator, request)

    def _device(self, address: str, name: str) -> Emulator[Any]:
        here = self._by_address.get(address, {})
        found = here.get(name)
        if found is None:
            raise RequestError(
                f"host control at {address}: no device {shown(name)} here; devices at this address: "
                f"{', '.join(sorted(here)) or 'none'} (does the plugin use the same farm spec and seed?)"
            )
        return found

    @staticmethod
    def _status(emulator: Emulator[Any]) -> Message:
        return {
            "device": emulator.name,
            "kind": emulator.kind,
            "health": emulator.health.value,
            "reason": emulator.health_reason,
            "changed_at": emulator.health_changed_at,
            "sessions": emulator.session_ids,
        }

    @staticmethod
    def _set_health(emulator: Emulator[Any], request: Message) -> Message:
        raw = request.get("health")
        try:
            health = Health.parse(raw if isinstance(raw, str) else "")
        except ValueError as exc:
            raise ProtocolError(f'field "health": {exc}') from None
        reason = string_field(request, "reason", maximum=MAX_REASON, default="")
        emulator.set_health(health, reason)
        log.info("%s %s set %s (%s)", emulator.kind, emulator.name, health.value, reason or "no reason")
        return ok(health=emulator.health.value, reason=emulator.health_reason, changed_at=emulator.health_changed_at)
