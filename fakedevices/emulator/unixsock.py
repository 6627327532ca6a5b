"""Emulators served over unix sockets: one whole-device socket plus one socket per session.

Layout under the emulator's state dir::

    <state_dir>/<device>/device.sock                    info/health for the whole device (no session)
    <state_dir>/<device>/sessions/<id>/session.sock     one per open session

``<id>`` is the session id when it is short and safe (letters, digits, ``.-_``, at most 40 chars),
else ``s-`` and 16 hex digits of its sha256 (``SessionEndpoint.socket_path`` always says which).
A container mounts its session's directory: it sees its own session only, and a restarted emulator
re-creates the socket inside the directory the container already has (so the directory outlives the
emulator process; only closing the session removes it).

Two processes may serve one state dir at once (plugin instances during an upgrade). A session opened
while the other process serves its socket leaves it to that process (no path changes hands between two
live processes that way); every start takes the whole-device socket. ``reclaim_sockets()`` takes every
path of this emulator (in one step each: the path never goes missing), and neither process removes a
socket file the other bound: the newest process takes them all at its start, and the one that stays when
the other leaves takes them back.
"""

from __future__ import annotations

import contextlib
import functools
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from fakedevices.emulator.base import Emulator, Session, SessionEndpoint, session_file_name
from fakedevices.emulator.errors import RequestError
from fakedevices.emulator.protocol import shown
from fakedevices.emulator.server import Connection, LineServer, serve_requests
from fakedevices.emulator.socket_files import check_unix_path, served

DEVICE_SOCKET = "device.sock"
SESSIONS_DIR = "sessions"
SESSION_SOCKET = "session.sock"
SHORTEST_SESSION_NAME = "s-" + "0" * 16  # what a long session id's directory is called


@dataclass
class SocketSession(Session):
    server: LineServer | None = None


SS = TypeVar("SS", bound=SocketSession)


class UnixSocketEmulator(Emulator[SS]):
    """An emulator whose container side is a unix socket per session."""

    _device_server: LineServer | None = None

    @property
    def device_socket(self) -> Path:
        return self.device_dir / DEVICE_SOCKET

    @functools.cached_property
    def sessions_dir(self) -> Path:
        return self.device_dir / SESSIONS_DIR

    @functools.cached_property
    def _sessions_prefix(self) -> str:
        return f"{self.sessions_dir}{os.sep}"

    def session_socket_path(self, session_id: str) -> Path:
        return Path(f"{self._sessions_prefix}{session_file_name(session_id)}{os.sep}{SESSION_SOCKET}")

    def check_paths(self) -> None:
        check_unix_path(self.device_socket)
        check_unix_path(self.sessions_dir / SHORTEST_SESSION_NAME / SESSION_SOCKET)

    def _remove_created_dirs(self) -> None:
        with contextlib.suppress(OSError):
            self.sessions_dir.rmdir()
        super()._remove_created_dirs()

    def _start(self) -> None:
        self.sessions_dir.mkdir(parents=True, exist_ok=True)
        server = LineServer.unix(f"{self.name}-device", self.device_socket, self._handle_device)
        server.start()
        self._device_server = server

    def _stop(self) -> None:
        if self._device_server is not None:
            self._device_server.stop()
            self._device_server = None

    def _endpoint(self, session_id: str) -> SessionEndpoint:
        return SessionEndpoint(
            kind=self.kind,
            device=self.name,
            session_id=session_id,
            socket_path=self.session_socket_path(session_id),
        )

    def _serve(self, session: SS) -> None:
        """Start the session's socket server (called from ``_create_session``)."""
        assert session.endpoint.socket_path is not None

        def handle(conn: Connection) -> None:
            try:
                serve_requests(conn, lambda c, request: self.dispatch(c, session, request))
            finally:
                self._connection_closed(conn, session)

        check_unix_path(session.endpoint.socket_path)
        made = False
        with contextlib.suppress(FileExistsError):  # kept from before a restart
            os.mkdir(session.endpoint.socket_path.parent)
            made = True
        try:
            server = LineServer.unix(
                f"{self.name}-{session.session_id}", session.endpoint.socket_path, handle, take=False
            )
        except BaseException:
            if made:
                with contextlib.suppress(OSError):
                    os.rmdir(session.endpoint.socket_path.parent)
            raise
        server.start()
        session.server = server

    def _destroy_session(self, session: SS) -> None:
        if session.server is not None:
            session.server.stop()
        self._session_closed(session)

    def close_session(self, session_id: str) -> None:
        """Release the session and its directory. Stopping the emulator keeps the directories: a
        restarted plugin re-opens the sessions in them, where running containers still look."""
        super().close_session(session_id)
        with contextlib.suppress(OSError):
            os.rmdir(f"{self._sessions_prefix}{session_file_name(session_id)}")

    def remove_unused_session_dirs(self) -> None:
        """Session dirs no open session here owns go, but not those whose socket another process serves:
        that process removes them when it closes the session."""
        with self._lock:
            used = {self.session_socket_path(sid).parent for sid in self._sessions}
        for directory in self.sessions_dir.glob("*"):
            if directory.is_dir() and directory not in used and not served(directory / SESSION_SOCKET):
                with contextlib.suppress(FileNotFoundError):
                    (directory / SESSION_SOCKET).unlink()
                with contextlib.suppress(OSError):
                    directory.rmdir()

    def reclaim_sockets(self) -> int:
        return sum(server.rebind() for server in self._servers())

    def open_connections(self) -> int:
        return sum(server.connections for server in self._servers())

    def device_socket_taken(self) -> bool:
        server = self._device_server
        return server is not None and not server.owns_path

    def sockets_held(self) -> list[Path]:
        return [server.path for server in self._servers() if server.path is not None and server.owns_path]

    def _servers(self) -> list[LineServer]:
        """The sessions' servers and the whole device's."""
        with self._lock:
            servers = [s.server for s in self._sessions.values() if s.server is not None]
            if self._device_server is not None:
                servers.append(self._device_server)
        return servers

    def _handle_device(self, conn: Connection) -> None:
        serve_requests(conn, lambda c, request: self.dispatch(c, None, request))

    def _connection_closed(self, conn: Connection, session: SS) -> None:
        """A container connection of ``session`` ended."""

    def _session_closed(self, session: SS) -> None:
        """The session is gone and its socket removed."""

    def needs_session(self, op: str) -> RequestError:
        """What the whole-device socket answers to session ops."""
        return RequestError(
            f"op {shown(op)} needs a session: connect to the session socket mounted in the container, "
            f"not {self.device_socket}"
        )
