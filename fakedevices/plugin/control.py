"""The plugin's local fault-control API: line-delimited JSON on an owner-only unix socket.

{"op": "status"}
{"op": "set-health", "device": "gpu-0", "health": "unhealthy", "reason": "ECC errors"}
{"op": "fail-prepares", "count": 3}            # the next 3 prepares fail, then they succeed
{"op": "fail-prepares", "permanent": true, "message": "firmware hang"}
{"op": "delay-prepares", "seconds": 2.5}
{"op": "driver-bug", "bug": "skip-cdi-spec" | "leak-on-unprepare" | "stale-slice-generation", "on": true}
{"op": "clear"}
{"op": "kill"}                                  # the plugin exits at once, like a crash
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

from fakedevices.emulator.errors import RequestError
from fakedevices.emulator.protocol import Message, ok
from fakedevices.emulator.server import Connection, LineServer, serve_requests
from fakedevices.plugin.driver import NodeDriver

BUGS = {
    "skip-cdi-spec": "skip_cdi_spec",
    "leak-on-unprepare": "leak_on_unprepare",
    "stale-slice-generation": "stale_slice_generation",
}
OPS = ("status", "set-health", "fail-prepares", "delay-prepares", "driver-bug", "clear", "kill")


class ControlServer:
    def __init__(self, path: Path, driver: NodeDriver, *, on_kill: Callable[[], None] | None = None) -> None:
        self.path = path
        self.driver = driver
        self.on_kill = on_kill or (lambda: os._exit(137))
        self._server: LineServer | None = None

    def start(self) -> None:
        self._server = LineServer.unix("drafarm-control", self.path, self._handle)
        os.chmod(self.path, 0o600)
        self._server.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()

    def _handle(self, conn: Connection) -> None:
        serve_requests(conn, self._dispatch)

    def _dispatch(self, conn: Connection, request: Message) -> Message:
        op = request.get("op")
        faults = self.driver.faults
        if op == "status":
            _, reports = self.driver.health_snapshot()
            health = {r.device: r.health for r in reports}
            return ok(
                node=self.driver.inventory.node.name,
                faults=asdict(faults.snapshot()),
                health=health,
                prepared=[c.uid for c in self.driver.checkpoint.claims()],
            )
        if op == "set-health":
            device = _text(request, "device")
            try:
                changed = self.driver.set_health(device, _text(request, "health"), str(request.get("reason", "")))
            except ValueError as exc:
                raise RequestError(str(exc)) from exc
            return ok(devices=changed)
        if op in ("fail-prepares", "delay-prepares"):
            faults.update(namespace=str(request.get("namespace", "")))
        if op == "fail-prepares":
            message = str(request.get("message", "injected prepare failure"))
            if request.get("permanent"):
                return ok(faults=asdict(faults.update(fail_all_prepares=True, message=message)))
            count = request.get("count", 1)
            if not isinstance(count, int) or isinstance(count, bool) or count < 0:
                raise RequestError(f"count must be a whole number >= 0, got {count!r}")
            return ok(faults=asdict(faults.update(fail_next_prepares=count, fail_all_prepares=False, message=message)))
        if op == "delay-prepares":
            seconds = request.get("seconds")
            if not isinstance(seconds, int | float) or isinstance(seconds, bool) or not 0 <= seconds <= 40:
                raise RequestError(f"seconds must be a number from 0 to 40 (the kubelet waits 45 s), got {seconds!r}")
            return ok(faults=asdict(faults.update(prepare_delay_seconds=float(seconds))))
        if op == "driver-bug":
            bug = request.get("bug")
            if bug not in BUGS:
                raise RequestError(f"bug {bug!r} is not one of: {', '.join(BUGS)}")
            return ok(faults=asdict(faults.update(**{BUGS[str(bug)]: bool(request.get("on", True))})))
        if op == "clear":
            faults.clear()
            return ok(faults=asdict(faults.snapshot()))
        if op == "kill":
            conn.send(ok(killing=True))
            threading.Thread(target=self.on_kill, daemon=True).start()
            return ok()
        raise RequestError(f"unknown op {op!r}; ops: {', '.join(OPS)}")


def _text(request: Message, key: str) -> str:
    value: Any = request.get(key)
    if not isinstance(value, str) or not value:
        raise RequestError(f"{key!r} is required: a non-empty string")
    return value
