"""`RemoteEmulator`: what the plugin holds for a network-placed device served by a device host
(`host.py`), in place of an in-process emulator. It answers the calls the plugin makes of an emulator
(open and close a session, health and its listeners, set health) over host control (`client.py`).

- Sessions: `open_session(id, **limits)` opens the session on the host, with the limits the kind's
  `open_session` gives; the endpoint (the device's address and the session's token) is the host's. The
  proxy remembers the sessions it opened, with their limits.
- Health: mirrored from the host every `poll_s` seconds (another node's plugin may change it, or the
  host itself), and at once after `set_health`; listeners hear every change. While the host cannot be
  reached the device is `unknown`, with a reason naming the address.
- A host that restarted has lost its sessions: each poll opens again those this proxy remembers and the
  host no longer has (tokens derive from the device's key in the host's state dir, so they are the same).

Stopping the proxy (the plugin stopping) leaves the host's sessions open: containers keep their devices,
and the plugin's restore opens the same sessions again (idempotent on the host).
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, cast

from fakedevices.emulator.base import Emulator, Session, SessionEndpoint
from fakedevices.emulator.errors import EmulatorError, RequestError, SessionError
from fakedevices.emulator.health import Health
from fakedevices.emulator.protocol import Message, ProtocolError
from fakedevices.emulator.server import Connection
from fakedevices.remote.client import HostControl, HostUnreachable
from fakedevices.remote.ops import endpoint_from_wire

log = logging.getLogger(__name__)

DEFAULT_POLL_S = 2.0


class RemoteEmulator(Emulator[Session]):
    """Subclassed per kind by `remote_emulator` (`kind` is a class attribute of every emulator)."""

    kind = "remote"
    ops = ()

    def __init__(self, name: str, state_dir: Path, control: HostControl, poll_s: float = DEFAULT_POLL_S) -> None:
        super().__init__(name, state_dir)
        self.control = control
        self.poll_s = poll_s
        self._ops_lock = threading.Lock()
        """Serializes opening, closing and re-opening, so a poll never re-opens a session being closed."""
        self._wanted: dict[str, dict[str, Any]] = {}
        self._endpoints: dict[str, SessionEndpoint] = {}
        self._stopping = threading.Event()
        self._poller: threading.Thread | None = None
        self._reachable: bool | None = None

    @property
    def where(self) -> str:
        return self.control.where

    # ---- lifecycle -------------------------------------------------------------------------------
    def start(self) -> None:
        with self._lock:
            if self._running:
                return
            self._running = True
            self._stopping.clear()
        self.poll()
        self._poller = threading.Thread(target=self._poll_loop, name=f"{self.name}-remote-poll", daemon=True)
        self._poller.start()

    def stop(self) -> None:
        """Stop mirroring; the host's sessions stay open (see the module's doc)."""
        with self._lock:
            if not self._running:
                return
            self._running = False
        self._stopping.set()
        if self._poller is not None and self._poller is not threading.current_thread():
            self._poller.join(self.control.timeout * 2 + 1)
        self._poller = None

    # ---- sessions --------------------------------------------------------------------------------
    def open_session(self, session_id: str, **limits: Any) -> SessionEndpoint:
        if not self._running:
            raise SessionError(f"{self.kind} {self.name} is not running; start the emulator first")
        with self._ops_lock:
            answer = self._call("open", session=session_id, limits=limits)
            endpoint = self._endpoint_in(answer, session_id)
            self._wanted[session_id] = dict(limits)
            self._endpoints[session_id] = endpoint
            return endpoint

    def close_session(self, session_id: str) -> None:
        """Close on the host; `HostUnreachable` when it cannot be asked (the kubelet retries the unprepare;
        a host that restarted meanwhile no longer has the session, and this proxy no longer re-opens it)."""
        with self._ops_lock:
            self._wanted.pop(session_id, None)
            self._endpoints.pop(session_id, None)
            self._call("close", session=session_id)

    def endpoint(self, session_id: str) -> SessionEndpoint:
        with self._ops_lock:
            found = self._endpoints.get(session_id)
        if found is None:
            raise SessionError(f"no session {session_id!r} on {self.kind} {self.name} from this plugin; open it first")
        return found

    @property
    def session_ids(self) -> list[str]:
        """The sessions this plugin opened on the host (the host may hold other nodes' sessions too)."""
        with self._ops_lock:
            return sorted(self._wanted)

    def _endpoint_in(self, answer: Message, session_id: str) -> SessionEndpoint:
        try:
            endpoint = endpoint_from_wire(answer.get("endpoint"))
        except ProtocolError as exc:
            raise EmulatorError(f"{self.kind} {self.name}: the device host at {self.where}: {exc}") from exc
        if endpoint.device != self.name or endpoint.session_id != session_id or endpoint.kind != self.kind:
            raise EmulatorError(
                f"{self.kind} {self.name}: the device host at {self.where} answered for "
                f"{endpoint.kind} {endpoint.device} session {endpoint.session_id!r}; is it serving the same farm?"
            )
        return endpoint

    # ---- health ----------------------------------------------------------------------------------
    def set_health(self, health: Health | str, reason: str = "") -> None:
        """Set on the host (so every node serving the pool sees it), then mirror what the host says."""
        new = Health.parse(health)
        answer = self._call("set-health", health=new.value, reason=reason)
        self._mirror(answer)

    def poll(self) -> None:
        """Mirror the host's health and open again the sessions it lost (a restart)."""
        try:
            status = self._call("status")
        except HostUnreachable as exc:
            if self._reachable is not False:
                log.warning("%s %s: %s", self.kind, self.name, exc)
            self._reachable = False
            self._mirror_values(Health.UNKNOWN, f"device host unreachable at {self.where}", time.time())
            return
        except EmulatorError as exc:
            log.warning("%s %s: status refused: %s", self.kind, self.name, exc)
            return
        if self._reachable is False:
            log.info("%s %s: the device host at %s answers again", self.kind, self.name, self.where)
        self._reachable = True
        self._mirror(status)
        sessions = status.get("sessions")
        if isinstance(sessions, list):
            self._reopen_missing({s for s in sessions if isinstance(s, str)})

    def _reopen_missing(self, on_host: set[str]) -> None:
        with self._ops_lock:
            for session_id, limits in list(self._wanted.items()):
                if session_id in on_host:
                    continue
                try:
                    self._endpoints[session_id] = self._endpoint_in(
                        self._call("open", session=session_id, limits=limits), session_id
                    )
                    log.info("%s %s: re-opened session %s on the device host", self.kind, self.name, session_id)
                except EmulatorError as exc:
                    log.warning("%s %s: could not re-open session %s: %s", self.kind, self.name, session_id, exc)

    def _poll_loop(self) -> None:
        while not self._stopping.wait(self.poll_s):
            try:
                self.poll()
            except Exception:
                log.exception("%s %s: polling the device host failed", self.kind, self.name)

    def _mirror(self, answer: Mapping[str, Any]) -> None:
        try:
            health = Health.parse(str(answer.get("health")))
        except ValueError:
            log.warning("%s %s: the device host sent health %r", self.kind, self.name, answer.get("health"))
            return
        reason = answer.get("reason")
        changed_at = answer.get("changed_at")
        when = float(changed_at) if isinstance(changed_at, int | float) and not isinstance(changed_at, bool) else None
        self._mirror_values(health, reason if isinstance(reason, str) else "", when or time.time())

    def _mirror_values(self, health: Health, reason: str, changed_at: float) -> None:
        with self._lock:
            old = self._health
            self._health = health
            self._health_reason = reason
            if health is not old:
                self._health_changed_at = changed_at
            self._changed.notify_all()
            listeners = list(self._listeners)
        if health is old:
            return
        for listener in listeners:
            try:
                listener(self, health, reason)
            except Exception:
                log.exception("%s: health listener failed", self.name)

    def _call(self, op: str, **fields: Any) -> Message:
        try:
            return self.control.call(op, device=self.name, **fields)
        except EmulatorError as exc:
            raise type(exc)(f"{self.kind} {self.name}: {exc}") from exc

    # ---- what an in-process emulator has and a proxy does not ------------------------------------
    def identity(self) -> dict[str, Any]:
        return {"name": self.name, "host": self.where}

    def session_op(self, conn: Connection, session: Session, op: str, request: Message) -> Message | None:
        raise self.needs_session(op)

    def needs_session(self, op: str) -> RequestError:
        return RequestError(f"{self.kind} {self.name} is served by the device host at {self.where}; ask it")

    def _parse_limits(self, limits: Mapping[str, Any]) -> Any:
        return dict(limits)

    def _create_session(self, session_id: str, limits: Any) -> Session:
        raise SessionError(f"{self.kind} {self.name}: sessions are opened on the device host at {self.where}")

    def _destroy_session(self, session: Session) -> None:
        """Sessions live on the host."""


@functools.cache
def _proxy_type(kind: str) -> type[RemoteEmulator]:
    return cast(type[RemoteEmulator], type(f"Remote{kind.title()}Emulator", (RemoteEmulator,), {"kind": kind}))


def remote_emulator(
    kind: str, name: str, state_dir: Path, control: HostControl, poll_s: float = DEFAULT_POLL_S
) -> RemoteEmulator:
    """The proxy of device `name` of `kind`, whose host answers host control at `control`."""
    return _proxy_type(kind)(name, state_dir, control, poll_s)
