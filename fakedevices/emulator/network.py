"""Emulators served over TCP: one listening socket per device, sessions told apart by a token.

The host opens a session and gives the container the device's address and the session's token; the
container sends ``"token"`` with a request (once is enough: the connection keeps the session). ``info``,
``health`` and ``ping`` work without a token. Closing a session closes the connections that use it.

A token is derived from the session id and a secret key kept in the device's state dir
(``session_keys.py``), so an emulator started again on that state dir, or a second process serving it
(a plugin upgrade), accepts the tokens containers already hold.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from fakedevices.client import env as client_env
from fakedevices.emulator.base import Emulator, Session, SessionEndpoint
from fakedevices.emulator.errors import EmulatorError, RequestError, SessionError
from fakedevices.emulator.listen import LOOPBACK, Listen
from fakedevices.emulator.protocol import Message, ProtocolError, require_op
from fakedevices.emulator.server import Connection, LineServer, serve_requests
from fakedevices.emulator.session_keys import session_key

OPS_WITHOUT_SESSION = ("info", "health", "ping")


@dataclass
class NetworkSession(Session):
    token: str = ""


NS = TypeVar("NS", bound=NetworkSession)


class NetworkEmulator(Emulator[NS]):
    """An emulator whose container side is the device's TCP address plus a session token."""

    def __init__(self, name: str, state_dir: Path, listen: Listen = LOOPBACK) -> None:
        super().__init__(name, state_dir)
        self.listen = listen
        self._server: LineServer | None = None
        self._key = b""

    @property
    def address(self) -> tuple[str, int]:
        """``(host, port)`` the device listens on (the advertised host, if set)."""
        if self._server is None:
            raise EmulatorError(f"{self.kind} {self.name} is not running; start it first")
        host, port = self._server.address
        return (self.listen.advertise_host or host, port)

    def _start(self) -> None:
        server = LineServer.tcp(f"{self.name}-tcp", self.listen.host, self.listen.port, self._handle)
        try:
            self._key = session_key(self.device_dir)
        except OSError as exc:
            server.stop()
            raise EmulatorError(
                f"{self.kind} {self.name}: cannot keep its session key in {self.device_dir} ({exc}); "
                "make the emulator state dir writable"
            ) from exc
        server.start()
        self._server = server

    def _stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None

    def _endpoint(self, session_id: str) -> SessionEndpoint:
        """A new session's endpoint: the device's address and the session's token (called with the lock held)."""
        if self._server is None:
            raise SessionError(f"{self.kind} {self.name} is not running")
        token = hmac.new(self._key, session_id.encode(), hashlib.sha256).hexdigest()[:32]
        return SessionEndpoint(
            kind=self.kind, device=self.name, session_id=session_id, address=self.address, token=token
        )

    def _destroy_session(self, session: NS) -> None:
        self._session_closed(session)
        if self._server is not None:
            self._server.close_connections(lambda c: c.context.get("session") is session)

    def _handle(self, conn: Connection) -> None:
        try:
            serve_requests(conn, self._dispatch)
        finally:
            session: NS | None = conn.context.get("session")
            if session is not None:
                self._connection_closed(conn, session)

    def _dispatch(self, conn: Connection, request: Message) -> Message | None:
        op = require_op(request)
        session = self._session_for(conn, request, required=op not in OPS_WITHOUT_SESSION)
        return self.dispatch(conn, session, request)

    def _session_for(self, conn: Connection, request: Message, *, required: bool) -> NS | None:
        token = request.get("token")
        if token is not None:
            if not isinstance(token, str):
                raise ProtocolError('"token" must be a string')
            with self._lock:
                found = next((s for s in self._sessions.values() if secrets.compare_digest(s.token, token)), None)
            if found is None:
                raise RequestError(
                    f"{self.kind} {self.name}: token not valid for any open session; "
                    f"use the token in {client_env.var_name(self.kind, client_env.TOKEN)} of a prepared claim"
                )
            conn.context["session"] = found
        session: NS | None = conn.context.get("session")
        if session is not None:
            with self._lock:
                if self._sessions.get(session.session_id) is not session:
                    raise RequestError(f"{self.kind} {self.name}: session {session.session_id!r} is closed")
        if required and session is None:
            raise self.needs_session(require_op(request))
        return session

    def needs_session(self, op: str) -> RequestError:
        return RequestError(f'{self.kind} {self.name}: this op needs a session: send "token" with the request')

    def _connection_closed(self, conn: Connection, session: NS) -> None:
        """A container connection that used ``session`` ended."""

    def _session_closed(self, session: NS) -> None:
        """The session is gone (called without the lock, before its connections are closed)."""
