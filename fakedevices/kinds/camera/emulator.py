"""Network camera emulator: frames over TCP to viewers holding a session token.

Built from ``CameraEmulatorConfig`` alone. One TCP server per camera (bind address configurable, port
0 picks a free one). The host opens a session per claim with ``open_session(session_id,
bandwidth_mbps=..., control=...)`` and gives the container the address and the session token.

The camera captures ``fps`` frames a second; frame ``counter`` is the capture sequence number, so it
increases monotonically for every viewer. A full-rate stream fills the camera's bandwidth, so a frame
is ``bandwidth_mbps / 8 / fps`` bytes (clamped to 256 B..``MAX_FRAME_BYTES``, 1 MiB less 8 KiB, so a
frame's line fits the protocol's limit) and a viewer whose share is a fraction of the bandwidth gets
that fraction of the frames: frames are at least ``max(1 / fps, size / share_bytes_per_second)`` apart
on the server's clock (``t`` in each frame).

Control (``ptz``) is exclusive: the first session to use it (or one opened with ``control=True``) holds
it until ``release-control`` or until its session closes; other sessions are refused.

Unhealthy: streams in progress get ``{"ok": false, "error": ...}`` and the connection closes; new
streams are refused until the camera is healthy again.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fakedevices.emulator.base import reject_unknown_limits
from fakedevices.emulator.errors import EmulatorError, RequestError, SessionError
from fakedevices.emulator.health import Health
from fakedevices.emulator.listen import LOOPBACK, Listen
from fakedevices.emulator.network import NetworkEmulator, NetworkSession
from fakedevices.emulator.protocol import MAX_LINE_BYTES, Message, float_field, int_field, ok
from fakedevices.emulator.server import Connection
from fakedevices.kinds.emulator_config import identity_fields

OPS = ["info", "health", "ping", "stream", "ptz", "release-control"]
MIN_FRAME_BYTES = 256
# A frame line (payload plus its header fields) stays within the protocol's 1 MiB line limit.
MAX_FRAME_BYTES = MAX_LINE_BYTES - 8 * 1024
PTZ_RANGES = {"pan": (-180.0, 180.0), "tilt": (-90.0, 90.0), "zoom": (1.0, 20.0)}


@dataclass(frozen=True)
class CameraEmulatorConfig:
    name: str
    serial: str
    model: str
    resolution: str
    fps: int
    codec: str
    zone: str
    bandwidth_mbps: int

    def emulator(self, state_dir: Path, listen: Listen = LOOPBACK) -> CameraEmulator:
        return CameraEmulator(self, state_dir, listen)


@dataclass(frozen=True)
class CameraSessionLimits:
    bandwidth_mbps: float
    control: bool = False


@dataclass
class CameraSession(NetworkSession):
    frames_sent: int = 0
    bytes_sent: int = 0
    viewers: int = 0

    def describe(self) -> dict[str, Any]:
        limits: CameraSessionLimits = self.limits
        return {
            "id": self.session_id,
            "bandwidth_mbps": limits.bandwidth_mbps,
            "frames_sent": self.frames_sent,
            "bytes_sent": self.bytes_sent,
            "viewers": self.viewers,
        }


@dataclass
class _Ptz:
    pan: float = 0.0
    tilt: float = 0.0
    zoom: float = 1.0
    moves: int = 0
    holder: str | None = None
    history: list[str] = field(default_factory=list)


class CameraEmulator(NetworkEmulator[CameraSession]):
    kind = "camera"
    ops = OPS

    def __init__(self, config: CameraEmulatorConfig, state_dir: Path, listen: Listen = LOOPBACK) -> None:
        if config.fps <= 0 or config.bandwidth_mbps <= 0:
            raise EmulatorError(
                f"camera {config.name}: fps and bandwidth_mbps must be positive, "
                f"got {config.fps} and {config.bandwidth_mbps}"
            )
        super().__init__(config.name, state_dir, listen)
        self.config = config
        self._epoch = time.monotonic()
        self._ptz = _Ptz()
        self.frame_bytes = int(min(MAX_FRAME_BYTES, max(MIN_FRAME_BYTES, config.bandwidth_mbps * 125_000 / config.fps)))
        seed = f"{config.serial}:{config.name}:".encode()
        self._payload = (seed * (self.frame_bytes // len(seed) + 1))[: self.frame_bytes].decode()

    def _start(self) -> None:
        super()._start()
        self._epoch = time.monotonic()

    def identity(self) -> dict[str, Any]:
        return {**identity_fields(self.config), "frame_bytes": self.frame_bytes}

    # ---- sessions --------------------------------------------------------------------------------
    def _parse_limits(self, limits: Mapping[str, Any]) -> CameraSessionLimits:
        reject_unknown_limits(self.kind, self.name, limits, {"bandwidth_mbps", "control"})
        bandwidth = limits.get("bandwidth_mbps")
        bandwidth = self.config.bandwidth_mbps if bandwidth is None else bandwidth
        if isinstance(bandwidth, bool) or not isinstance(bandwidth, int | float) or bandwidth <= 0:
            raise SessionError(f"camera {self.name}: bandwidth_mbps must be a positive number, got {bandwidth!r}")
        if bandwidth > self.config.bandwidth_mbps:
            raise SessionError(
                f"camera {self.name}: bandwidth_mbps {bandwidth} exceeds the camera's {self.config.bandwidth_mbps}"
            )
        control = limits.get("control", False)
        if not isinstance(control, bool):
            raise SessionError(f"camera {self.name}: control must be true or false, got {control!r}")
        return CameraSessionLimits(bandwidth_mbps=float(bandwidth), control=control)

    def _create_session(self, session_id: str, limits: CameraSessionLimits) -> CameraSession:
        if limits.control:
            holder = self._ptz.holder
            if holder is not None and holder != session_id:
                raise SessionError(
                    f"camera {self.name}: exclusive control is held by session {holder!r}; "
                    "close it or open this session without control"
                )
        endpoint = self._endpoint(session_id)
        session = CameraSession(session_id=session_id, limits=limits, endpoint=endpoint, token=endpoint.token or "")
        if limits.control:
            self._ptz.holder = session_id
        return session

    def _session_closed(self, session: CameraSession) -> None:
        with self._lock:
            if self._ptz.holder == session.session_id:
                self._ptz.holder = None
            self._changed.notify_all()

    @property
    def control_holder(self) -> str | None:
        return self._ptz.holder

    def frame_interval(self, session_id: str) -> float:
        """Seconds between two frames for this session: its bandwidth share over the frame size."""
        limits: CameraSessionLimits = self.session(session_id).limits
        return self._interval(limits)

    def _interval(self, limits: CameraSessionLimits) -> float:
        share_bytes_per_s = limits.bandwidth_mbps * 125_000
        return max(1.0 / self.config.fps, self.frame_bytes / share_bytes_per_s)

    # ---- container side --------------------------------------------------------------------------
    def _connection_closed(self, conn: Connection, session: CameraSession) -> None:
        if conn.context.pop("viewing", False):
            with self._lock:
                session.viewers -= 1

    def session_op(self, conn: Connection, session: CameraSession, op: str, request: Message) -> Message | None:
        if op == "ptz":
            return self._ptz_move(session, request)
        if op == "release-control":
            with self._lock:
                if self._ptz.holder == session.session_id:
                    self._ptz.holder = None
                    return ok(released=True)
            return ok(released=False)
        return self._stream(conn, session, request)

    def _ptz_move(self, session: CameraSession, request: Message) -> Message:
        self.require_healthy("ptz")
        targets: dict[str, float] = {}
        for axis, (low, high) in PTZ_RANGES.items():
            if axis in request:
                value = float_field(request, axis, minimum=-math.inf)
                if not low <= value <= high:
                    raise RequestError(f"ptz {axis} must be in {low}..{high}, got {value}")
                targets[axis] = value
        with self._lock:
            holder = self._ptz.holder
            if holder is not None and holder != session.session_id:
                raise RequestError(
                    f"camera {self.name}: control is held exclusively by another session; "
                    "ptz refused until it releases control or its claim is released"
                )
            self._ptz.holder = session.session_id
            for axis, value in targets.items():
                setattr(self._ptz, axis, value)
            self._ptz.moves += 1
            return ok(control=True, pan=self._ptz.pan, tilt=self._ptz.tilt, zoom=self._ptz.zoom)

    def _capture_counter(self, now: float) -> int:
        return int((now - self._epoch) * self.config.fps) + 1

    def _stream(self, conn: Connection, session: CameraSession, request: Message) -> Message | None:
        frames_wanted = int_field(request, "frames", default=0, minimum=0)
        seconds = float_field(request, "seconds", default=0.0, minimum=0.0)
        self.require_healthy("streaming")
        limits: CameraSessionLimits = session.limits
        interval = self._interval(limits)
        started = time.monotonic()
        deadline = started + seconds if seconds > 0 else math.inf
        sent = sent_bytes = 0
        last_counter = 0
        next_at = started
        if not conn.context.get("viewing"):
            conn.context["viewing"] = True
            with self._lock:
                session.viewers += 1
        while frames_wanted == 0 or sent < frames_wanted:
            with self._changed:
                problem = self._stream_problem(session, conn)
                while problem is None:
                    now = time.monotonic()
                    wait = max(next_at, self._epoch + last_counter / self.config.fps) - now
                    if now >= deadline or wait <= 0:
                        break
                    self._changed.wait(min(wait, deadline - now))
                    problem = self._stream_problem(session, conn)
                if problem is None and time.monotonic() >= deadline:
                    return ok(end=True, frames=sent, bytes=sent_bytes, reason="seconds", interval=interval)
                if problem is None:
                    now = time.monotonic()
                    counter = max(self._capture_counter(now), last_counter + 1)
                    ptz = {"pan": self._ptz.pan, "tilt": self._ptz.tilt, "zoom": self._ptz.zoom}
            if problem is not None:
                conn.send({"ok": False, "error": problem, "frames": sent, "bytes": sent_bytes})
                conn.close()
                return None
            frame = {
                "camera": self.config.name,
                "serial": self.config.serial,
                "session": session.session_id,
                "counter": counter,
                "seq": sent + 1,
                "t": round(now - self._epoch, 6),
                "resolution": self.config.resolution,
                "codec": self.config.codec,
                "ptz": ptz,
                "size": self.frame_bytes,
                "data": self._payload,
            }
            conn.send({"ok": True, "frame": frame})
            sent += 1
            sent_bytes += self.frame_bytes
            last_counter = counter
            next_at = now + interval
            with self._lock:
                session.frames_sent += 1
                session.bytes_sent += self.frame_bytes
                self._changed.notify_all()
        return ok(end=True, frames=sent, bytes=sent_bytes, reason="count", interval=interval)

    def _stream_problem(self, session: CameraSession, conn: Connection) -> str | None:
        if not self._running:
            return f"camera {self.name} stopped"
        if conn.closed:
            return "connection closed"
        if self._sessions.get(session.session_id) is not session:
            return f"camera {self.name}: session {session.session_id!r} was closed; streaming stopped"
        if self._health is Health.UNHEALTHY:
            reason = f" ({self._health_reason})" if self._health_reason else ""
            return f"camera {self.name} is unhealthy{reason}: streaming stopped"
        return None
