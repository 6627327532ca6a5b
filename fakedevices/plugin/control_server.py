"""The plugin's local fault-control API (operations: `control_protocol`), served on an owner-only unix socket."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fakedevices.emulator.errors import RequestError
from fakedevices.emulator.health import Health
from fakedevices.emulator.protocol import Message, ok
from fakedevices.emulator.server import Connection, LineServer, serve_requests
from fakedevices.plugin import control_protocol as ops
from fakedevices.plugin.driver import NodeDriver

BUG_SWITCHES = {
    "skip-cdi-spec": "skip_cdi_spec",
    "leak-on-unprepare": "leak_on_unprepare",
    "stale-slice-generation": "stale_slice_generation",
}
_HEALTH_OF_DRA_VALUE = {h.dra_value: h.value for h in Health}


class ControlServer:
    def __init__(self, path: Path, driver: NodeDriver, *, on_kill: Callable[[], None] | None = None) -> None:
        self.path = path
        self.driver = driver
        self.on_kill = on_kill or (lambda: os._exit(137))
        self._server: LineServer | None = None

    def start(self) -> None:
        self._server = LineServer.unix("drafarm-control", self.path, self._handle, mode=0o600)
        self._server.start()

    def stop(self) -> None:
        """Stop serving; the socket file goes too, unless another instance has bound it since."""
        if self._server is not None:
            self._server.stop()

    def reclaim(self) -> bool:
        """Bind the socket again when another instance took it (the newest one does) and left."""
        return self._server is not None and self._server.rebind()

    @property
    def holds_socket(self) -> bool:
        return self._server is not None and self._server.owns_path

    def _handle(self, conn: Connection) -> None:
        serve_requests(conn, self._dispatch)

    def _dispatch(self, conn: Connection, message: Message) -> Message | None:
        request = ops.parse_request(message)
        if isinstance(request, ops.Kill):
            conn.send(ok(**request.answer.write(None)))
            threading.Thread(target=self.on_kill, daemon=True).start()
            return None
        return ok(**self._carry_out(request))

    def _carry_out(self, request: ops.ControlRequest[Any]) -> Message:
        faults = self.driver.faults
        match request:
            case ops.Status():
                return request.answer.write(self._status())
            case ops.SetHealth():
                try:
                    devices = self.driver.set_health(request.device, request.health, request.reason)
                except ValueError as exc:
                    raise RequestError(str(exc)) from exc
                return request.answer.write(devices)
            case ops.FailPrepares():
                return request.answer.write(faults.update(**_prepare_failures(request)))
            case ops.DelayPrepares():
                delay = float(request.seconds)
                return request.answer.write(faults.update(namespace=request.namespace, prepare_delay_seconds=delay))
            case ops.DriverBug():
                return request.answer.write(faults.update(**{BUG_SWITCHES[request.bug]: request.on}))
            case ops.Clear():
                faults.clear()
                return request.answer.write(faults.snapshot())
        raise RequestError(f"op {request.OP!r} is not served here")

    def _status(self) -> ops.PluginStatus:
        _, reports = self.driver.health_snapshot()
        return ops.PluginStatus(
            node=self.driver.inventory.node.name,
            health={r.device: _HEALTH_OF_DRA_VALUE[r.health] for r in reports},
            faults=self.driver.faults.snapshot(),
            prepared=tuple(c.uid for c in self.driver.checkpoint.claims()),
            resident_bytes=_resident_bytes(),
        )


def _resident_bytes() -> int | None:
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except (OSError, IndexError, ValueError):
        return None
    return pages * os.sysconf("SC_PAGE_SIZE")


def _prepare_failures(request: ops.FailPrepares) -> dict[str, object]:
    """The `FaultState` fields a fail-prepares request sets."""
    changes: dict[str, object] = {"namespace": request.namespace, "message": request.message}
    if request.permanent:
        return {**changes, "fail_all_prepares": True}
    return {**changes, "fail_next_prepares": request.count, "fail_all_prepares": False}
