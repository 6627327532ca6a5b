"""The shared part of every emulator: health, sessions, and the in-process host API.

The host side (the kubelet plugin) drives an emulator with plain method calls, from any thread:
``start()``, ``stop()``, ``open_session(session_id, **limits)``, ``close_session(session_id)``,
``set_health(health)`` and ``health``. The container side talks to it over sockets (protocol.py).
"""

from __future__ import annotations

import abc
import contextlib
import hashlib
import logging
import re
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Generic, TypeVar

from fakedevices.client import env as client_env
from fakedevices.emulator.errors import EmulatorError, RequestError, SessionError
from fakedevices.emulator.health import Health
from fakedevices.emulator.protocol import Message, ok, require_op, shown
from fakedevices.emulator.server import Connection

log = logging.getLogger(__name__)

_SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")

HealthListener = Callable[["Emulator[Any]", Health, str], None]


@dataclass(frozen=True)
class SessionEndpoint:
    """How a container reaches its session: a unix socket (GPU, FPGA) or a TCP address + token (camera).

    ``socket_path`` is the host path; the CDI edits mount it into the container (bind-mount of the file
    or of its ``sessions/`` directory) and point the env var at the container path.
    """

    kind: str
    device: str
    session_id: str
    socket_path: Path | None = None
    address: tuple[str, int] | None = None
    token: str | None = None

    @property
    def addr(self) -> str | None:
        """``host:port`` for TCP endpoints (IPv6 hosts in brackets)."""
        if self.address is None:
            return None
        host, port = self.address
        return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"

    def container_env(self, *, container_path: str | None = None, device_id: str | None = None) -> dict[str, str]:
        """The env vars the in-container client reads (see fakedevices/client/ENV.md).

        ``container_path`` is where the socket is mounted in the container (default: the host path);
        ``device_id`` gives the indexed form (``DRAFARM_GPU_<ID>_SOCKET``) for several devices.
        """
        values: dict[str, str] = {
            client_env.DEVICE: self.device,
            client_env.SESSION: self.session_id,
        }
        if self.socket_path is not None:
            values[client_env.SOCKET] = container_path or str(self.socket_path)
        if self.addr is not None:
            values[client_env.ADDR] = self.addr
        if self.token is not None:
            values[client_env.TOKEN] = self.token
        return {client_env.var_name(self.kind, key, device_id): value for key, value in values.items()}


@dataclass
class Session:
    """One claim's use of a device; kinds subclass it with their own state."""

    session_id: str
    limits: Any
    endpoint: SessionEndpoint
    opened_at: float = field(default_factory=time.time)

    def describe(self) -> dict[str, Any]:
        return {"id": self.session_id}


S = TypeVar("S", bound=Session)


def session_file_name(session_id: str) -> str:
    """A short, filesystem-safe name for a session's socket: the id itself when safe, else a hash."""
    if _SAFE_NAME.fullmatch(session_id) and len(session_id) <= 40:
        return session_id
    return "s-" + hashlib.sha256(session_id.encode()).hexdigest()[:16]


class Emulator(abc.ABC, Generic[S]):
    """Base of all emulators: a named device with a health state and sessions handed out per claim."""

    kind: ClassVar[str]
    ops: ClassVar[Sequence[str]]
    """Every op the kind answers, the common ones (``ping``, ``info``, ``health``) among them."""

    def __init__(self, name: str, state_dir: Path) -> None:
        if not _SAFE_NAME.fullmatch(name):
            raise EmulatorError(f"device name {name!r} must be a DNS-label-like name (letters, digits, -._)")
        self.name = name
        self.state_dir = Path(state_dir)
        self.device_dir = self.state_dir / name
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._health = Health.HEALTHY
        self._health_reason = ""
        self._health_changed_at = time.time()
        self._listeners: list[HealthListener] = []
        self._sessions: dict[str, S] = {}
        self._running = False

    # ---- lifecycle -------------------------------------------------------------------------------
    def start(self) -> None:
        """Start serving. Idempotent."""
        with self._lock:
            if self._running:
                return
            self.check_paths()
            created = not self.device_dir.exists()
            self.device_dir.mkdir(parents=True, exist_ok=True)
            try:
                self._start()
            except BaseException:
                if created:
                    self._remove_created_dirs()
                raise
            self._running = True

    def stop(self) -> None:
        """Close every session, stop serving and remove this device's sockets. Idempotent."""
        with self._lock:
            if not self._running:
                return
            self._running = False
            sessions = list(self._sessions.values())
            self._sessions.clear()
            self._changed.notify_all()
        for session in sessions:
            self._destroy_session(session)
        self._stop()

    @property
    def running(self) -> bool:
        return self._running

    def __enter__(self) -> Emulator[S]:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ---- health ----------------------------------------------------------------------------------
    @property
    def health(self) -> Health:
        return self._health

    @property
    def health_reason(self) -> str:
        return self._health_reason

    @property
    def health_changed_at(self) -> float:
        """Unix time of the last health change (DRA's ``last_updated_time``)."""
        return self._health_changed_at

    def set_health(self, health: Health | str, reason: str = "") -> None:
        """Mark the device healthy, unhealthy or unknown; listeners are called outside the lock."""
        new = Health.parse(health)
        with self._lock:
            old = self._health
            self._health = new
            self._health_reason = reason
            if new is not old:
                self._health_changed_at = time.time()
            self._changed.notify_all()
            listeners = list(self._listeners)
        if new is not old:
            self._on_health_change(old, new)
            for listener in listeners:
                try:
                    listener(self, new, reason)
                except Exception:
                    log.exception("%s: health listener failed", self.name)

    def add_health_listener(self, listener: HealthListener) -> None:
        """Call ``listener(emulator, health, reason)`` on every health change."""
        with self._lock:
            self._listeners.append(listener)

    def require_healthy(self, what: str) -> None:
        """Refuse ``what`` (a ``RequestError`` for the wire) while the device is unhealthy."""
        if self._health is Health.UNHEALTHY:
            reason = f" ({self._health_reason})" if self._health_reason else ""
            raise RequestError(
                f"{self.kind} {self.name} is unhealthy{reason}: {what} refused; "
                "wait for the device to become healthy or use another device"
            )

    # ---- sessions --------------------------------------------------------------------------------
    def open_session(self, session_id: str, **limits: Any) -> SessionEndpoint:
        """Hand the device to a claim. Idempotent for the same id and limits.

        Raises ``SessionError`` for unknown or bad limits, a conflicting session, or an id already open
        with different limits.
        """
        if not session_id or not isinstance(session_id, str) or len(session_id) > 253:
            raise SessionError(f"session id {session_id!r} must be a non-empty string of at most 253 chars")
        parsed = self._parse_limits(limits)
        with self._lock:
            if not self._running:
                raise SessionError(f"{self.kind} {self.name} is not running; start the emulator first")
            existing = self._sessions.get(session_id)
            if existing is not None:
                if existing.limits == parsed:
                    return existing.endpoint
                raise SessionError(
                    f"session {session_id!r} is already open on {self.name} with limits {existing.limits}; "
                    f"close it before opening it with {parsed}"
                )
            session = self._create_session(session_id, parsed)
            self._sessions[session_id] = session
            return session.endpoint

    def close_session(self, session_id: str) -> None:
        """Release the claim's use of the device; closing an unknown session is a no-op."""
        with self._lock:
            session = self._sessions.pop(session_id, None)
            self._changed.notify_all()
        if session is not None:
            self._destroy_session(session)

    def session(self, session_id: str) -> S:
        with self._lock:
            found = self._sessions.get(session_id)
        if found is None:
            raise SessionError(f"no session {session_id!r} on {self.kind} {self.name}; open it first")
        return found

    def endpoint(self, session_id: str) -> SessionEndpoint:
        return self.session(session_id).endpoint

    @property
    def session_ids(self) -> list[str]:
        with self._lock:
            return sorted(self._sessions)

    def wait_for(self, predicate: Callable[[], bool], timeout: float) -> bool:
        """Wait until ``predicate()`` (evaluated under the emulator's lock) holds; ``False`` on timeout.

        Re-evaluated whenever the emulator's state changes (health, sessions, frames, programming).
        """
        with self._changed:
            return self._changed.wait_for(predicate, timeout)

    # ---- what the container sees -----------------------------------------------------------------
    @abc.abstractmethod
    def identity(self) -> dict[str, Any]:
        """The device's identity fields (name, serial/uuid, model, ...)."""

    def describe(self, session: S | None = None) -> dict[str, Any]:
        info: dict[str, Any] = {
            "kind": self.kind,
            **self.identity(),
            "health": self._health.value,
        }
        if self._health_reason:
            info["health_reason"] = self._health_reason
        if session is not None:
            info["session"] = session.describe()
        else:
            info["sessions"] = len(self._sessions)
        return info

    def dispatch(self, conn: Connection, session: S | None, request: Message) -> Message | None:
        """Answer one request: an op every kind has, else one of the kind's own, which need a session."""
        op = require_op(request)
        common = self.dispatch_common(op, session)
        if common is not None:
            return common
        if op not in self.ops:
            raise self.unknown_op(request, list(self.ops))
        if session is None:
            raise self.needs_session(op)
        return self.session_op(conn, session, op, request)

    def dispatch_common(self, op: str, session: S | None) -> Message | None:
        """Answer the ops every kind has; ``None`` when ``op`` is not one of them."""
        if op == "ping":
            return ok(pong=True)
        if op == "info":
            with self._lock:
                return ok(**self.describe(session))
        if op == "health":
            return ok(health=self._health.value, reason=self._health_reason)
        return None

    def unknown_op(self, request: Message, ops: list[str]) -> RequestError:
        op = require_op(request)
        return RequestError(f"unknown op {shown(op)} for {self.kind} {self.name}; known ops: {', '.join(ops)}")

    # ---- for subclasses --------------------------------------------------------------------------
    @abc.abstractmethod
    def session_op(self, conn: Connection, session: S, op: str, request: Message) -> Message | None:
        """Answer one of the kind's own ops for a session (``None``: the reply was sent already)."""

    @abc.abstractmethod
    def needs_session(self, op: str) -> RequestError:
        """What a request for a kind's own op gets without a session."""

    @abc.abstractmethod
    def _parse_limits(self, limits: Mapping[str, Any]) -> Any:
        """Validate ``open_session`` keyword limits into a comparable value; ``SessionError`` if bad."""

    @abc.abstractmethod
    def _create_session(self, session_id: str, limits: Any) -> S:
        """Create and start serving a session (called with the lock held)."""

    @abc.abstractmethod
    def _destroy_session(self, session: S) -> None:
        """Stop serving a session (called without the lock)."""

    def remove_unused_session_dirs(self) -> None:
        """Remove what sessions of an earlier process left that no open session owns (called once a
        restarted plugin has re-opened every session it still needs)."""

    def reclaim_sockets(self) -> int:
        """Bind every socket of this emulator whose file is not its own now (another process bound it,
        or it was removed, or a session left it to another process); how many. Called when the plugin
        starts (the newest instance serves them all) and when another instance goes away."""
        return 0

    def sockets_held(self) -> list[Path]:
        """The socket files this emulator serves that are still the ones it bound."""
        return []

    def open_connections(self) -> int:
        """How many container connections to this emulator's unix sockets are open now."""
        return 0

    def device_socket_taken(self) -> bool:
        """Whether another process has bound this emulator's whole-device socket since it did."""
        return False

    def check_paths(self) -> None:
        """``EmulatorError`` when this emulator cannot serve under its state dir (before anything is made)."""

    def _remove_created_dirs(self) -> None:
        """Undo what a failed first ``start`` made under the state dir."""
        with contextlib.suppress(OSError):
            self.device_dir.rmdir()

    def _start(self) -> None:
        """Start device-wide servers (called with the lock held)."""

    def _stop(self) -> None:
        """Stop device-wide servers (called without the lock)."""

    def _on_health_change(self, old: Health, new: Health) -> None:
        """React to a health change (called without the lock)."""


def reject_unknown_limits(kind: str, name: str, limits: Mapping[str, Any], allowed: set[str]) -> None:
    unknown = sorted(set(limits) - allowed)
    if unknown:
        raise SessionError(
            f"{kind} {name}: unknown session limit(s) {', '.join(unknown)}; allowed: {', '.join(sorted(allowed))}"
        )
