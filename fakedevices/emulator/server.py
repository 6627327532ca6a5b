"""A small threaded line-JSON server over a unix or TCP listening socket.

Every server's listener is watched by one shared ``Acceptor`` thread (a session socket costs a
``bind``, not a thread); each accepted connection gets a thread of its own, at most
``MAX_CONNECTIONS_PER_SERVER`` at once (more are answered with an error). ``stop()`` unregisters the
listener (no connection is accepted after it returns), shuts down every live connection (so handlers
blocked in ``recv`` return), joins their threads and removes the unix socket file. Safe to call from any
thread, and more than once.

A unix socket file may be bound again by another process serving the same state dir (a second plugin
instance during an upgrade): the newest bind answers new connections. A server therefore removes its
socket file only while the file is still the one it bound, and ``rebind()`` takes the path back.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import selectors
import socket
import stat
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fakedevices.emulator.errors import EmulatorError, RequestError
from fakedevices.emulator.protocol import MAX_LINE_BYTES, Message, ProtocolError, decode, encode, error

log = logging.getLogger(__name__)

# sun_path is 108 bytes on Linux including the terminating NUL.
MAX_UNIX_PATH_BYTES = 107
# Connections one server serves at once (a thread each); more are answered with an error and closed.
MAX_CONNECTIONS_PER_SERVER = 64
_SKIP_PIECE_BYTES = 64 * 1024


class ConnectionClosed(Exception):
    """The peer went away or the server is stopping."""


class Connection:
    """One accepted client connection: read requests, send responses, from any thread."""

    def __init__(self, sock: socket.socket, server: LineServer) -> None:
        self.sock = sock
        self.server = server
        self.context: dict[str, Any] = {}
        self._rfile = sock.makefile("rb")
        self._send_lock = threading.Lock()
        self._closed = threading.Event()

    @property
    def closed(self) -> bool:
        return self._closed.is_set()

    def read(self) -> Message | None:
        """The next request, ``None`` at end of stream; ``ProtocolError`` for a malformed line."""
        try:
            line = self._rfile.readline(MAX_LINE_BYTES + 1)
            if len(line) > MAX_LINE_BYTES and not line.endswith(b"\n"):
                self._skip_rest_of_line()
        except (OSError, ValueError):
            return None
        if not line:
            return None
        if not line.strip():
            raise ProtocolError("empty request line; send one JSON object per line")
        return decode(line)

    def _skip_rest_of_line(self) -> None:
        """Discard an oversized line up to its end, so it gets one answer (read in bounded pieces)."""
        while True:
            piece = self._rfile.readline(_SKIP_PIECE_BYTES)
            if not piece or piece.endswith(b"\n"):
                return

    def send(self, message: Message) -> None:
        """Send one response line; ``ConnectionClosed`` when the peer is gone. A reply over the
        protocol's line limit is replaced by an error saying so."""
        data = encode(message)
        if len(data) > MAX_LINE_BYTES:
            data = encode(
                error(
                    f"the reply would be {len(data)} bytes, over the protocol's limit of {MAX_LINE_BYTES}; "
                    "ask for less (smaller input, fewer items)"
                )
            )
        with self._send_lock:
            if self.closed:
                raise ConnectionClosed()
            try:
                self.sock.sendall(data)
            except OSError as exc:
                raise ConnectionClosed() from exc

    def close(self) -> None:
        """Shut the connection down; wakes a handler blocked in ``read``."""
        if self._closed.is_set():
            return
        self._closed.set()
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)

    def _release(self) -> None:
        self.close()
        with contextlib.suppress(OSError):
            self._rfile.close()
        with contextlib.suppress(OSError):
            self.sock.close()


Handler = Callable[[Connection], None]
Dispatch = Callable[[Connection, Message], Message | None]


def serve_requests(conn: Connection, dispatch: Dispatch) -> None:
    """Answer requests on ``conn`` until it ends; refusals become ``{"ok": false}`` responses.

    ``dispatch`` returns the response, or ``None`` when it already wrote everything itself.
    """
    while not conn.closed:
        try:
            request = conn.read()
        except ProtocolError as exc:
            conn.send(error(str(exc)))
            continue
        if request is None:
            return
        try:
            response = dispatch(conn, request)
        except (RequestError, ProtocolError, EmulatorError) as exc:
            response = error(str(exc))
        if response is not None:
            conn.send(response)


class Acceptor:
    """One thread accepting connections for any number of listening servers.

    ``add`` and ``remove`` are synchronous and callable from any thread: after ``remove`` returns, no
    connection is accepted for that server any more. The thread starts with the first ``add``.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self._selector = selectors.DefaultSelector()
        self._lock = threading.Lock()
        self._servers: dict[int, LineServer] = {}
        self._thread: threading.Thread | None = None

    def add(self, server: LineServer) -> None:
        listener = server._listener
        listener.setblocking(False)
        with self._lock:
            self._servers[listener.fileno()] = server
            self._selector.register(listener, selectors.EVENT_READ)
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name=f"{self.name}-accept", daemon=True)
                self._thread.start()

    def remove(self, server: LineServer) -> None:
        fd = server._listener.fileno()
        with self._lock:
            if self._servers.get(fd) is server:
                del self._servers[fd]
                self._selector.unregister(fd)

    def _loop(self) -> None:
        while True:
            # Level-triggered: a listener whose connection is not accepted now is reported again.
            events = self._selector.select()
            ready: list[tuple[LineServer, socket.socket]] = []
            with self._lock:
                for key, _ in events:
                    # An event collected before `remove` finds no server, or (fd reused) a non-blocking
                    # listener that has nothing to accept.
                    server = self._servers.get(key.fd)
                    if server is None:
                        continue
                    try:
                        sock, _ = server._listener.accept()
                    except OSError:
                        continue
                    ready.append((server, sock))
            for server, sock in ready:
                server._spawn(sock)


_shared_acceptor: Acceptor | None = None
_shared_acceptor_lock = threading.Lock()


def shared_acceptor() -> Acceptor:
    """The process's acceptor, made on first use."""
    global _shared_acceptor
    with _shared_acceptor_lock:
        if _shared_acceptor is None:
            _shared_acceptor = Acceptor("drafarm")
        return _shared_acceptor


def _refuse(sock: socket.socket, name: str) -> None:
    """Answer a connection over the cap with one error line (never blocking the acceptor) and close it."""
    message = error(f"{name}: {MAX_CONNECTIONS_PER_SERVER} connections are open already; close one and connect again")
    with contextlib.suppress(OSError):
        sock.setblocking(False)
        sock.send(encode(message))
    with contextlib.suppress(OSError):
        sock.close()


def check_unix_path(path: Path) -> None:
    """``EmulatorError`` when ``path`` is too long for a unix socket (checked before anything is created)."""
    encoded = os.fsencode(path)
    if len(encoded) > MAX_UNIX_PATH_BYTES:
        raise EmulatorError(
            f"unix socket path {str(path)!r} is {len(encoded)} bytes, over the limit of "
            f"{MAX_UNIX_PATH_BYTES}; use a shorter emulator state dir (e.g. /run/drafarm)"
        )


def _listen_unix(path: Path) -> socket.socket:
    """A listening unix socket at ``path`` (a stale or another process's socket file there is replaced), mode 0666."""
    check_unix_path(path)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        _bind_unix(listener, path)
        os.chmod(path, 0o666)
        listener.listen(64)
    except OSError as exc:
        listener.close()
        raise EmulatorError(f"cannot listen on unix socket {str(path)!r}: {exc}") from exc
    return listener


def _pending(listener: socket.socket) -> list[socket.socket]:
    """The connections waiting in a listener's queue, accepted without blocking."""
    listener.setblocking(False)
    waiting: list[socket.socket] = []
    while True:
        try:
            sock, _ = listener.accept()
        except OSError:
            return waiting
        waiting.append(sock)


def _file_identity(path: Path) -> tuple[int, int] | None:
    """Which file is at ``path`` now (device and inode), or None when there is none."""
    try:
        st = os.lstat(path)
    except OSError:
        return None
    return st.st_dev, st.st_ino


def _bind_unix(listener: socket.socket, path: Path) -> None:
    """Bind, making the directory or replacing a stale socket file only when the first try says so
    (a session's bind is on the prepare path: no syscalls it does not need)."""
    try:
        listener.bind(str(path))
        return
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        if exc.errno != errno.EADDRINUSE or not stat.S_ISSOCK(path.lstat().st_mode):
            raise
        path.unlink()
    listener.bind(str(path))


class LineServer:
    """Accepts connections on ``listener`` and runs ``handler(conn)`` in a thread per connection."""

    def __init__(self, name: str, listener: socket.socket, handler: Handler, *, path: Path | None = None):
        self.name = name
        self._listener = listener
        self._handler = handler
        self._path = path
        self._bound = _file_identity(path) if path is not None else None
        self._acceptor = shared_acceptor()
        self._lock = threading.Lock()
        self._connections: set[Connection] = set()
        self._threads: set[threading.Thread] = set()
        self._started = False
        self._stopping = threading.Event()

    @classmethod
    def unix(cls, name: str, path: Path, handler: Handler) -> LineServer:
        """Listen on a unix socket at ``path`` (a stale socket file there is replaced), mode 0666."""
        return cls(name, _listen_unix(path), handler, path=path)

    @classmethod
    def tcp(cls, name: str, host: str, port: int, handler: Handler) -> LineServer:
        """Listen on TCP ``host:port`` (port 0 picks a free port; see ``address``). A fixed port is shared
        (SO_REUSEPORT) with other processes of this user that listen there too: a second plugin instance
        serving the same devices during an upgrade."""
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
        except OSError as exc:
            raise EmulatorError(f"cannot resolve bind address {host!r}: {exc}") from exc
        family, _, _, _, sockaddr = infos[0]
        listener = socket.socket(family, socket.SOCK_STREAM)
        try:
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if port:
                listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            listener.bind(sockaddr)
            listener.listen(64)
        except OSError as exc:
            listener.close()
            raise EmulatorError(f"cannot listen on {host}:{port}: {exc}") from exc
        return cls(name, listener, handler)

    @property
    def path(self) -> Path | None:
        return self._path

    @property
    def owns_path(self) -> bool:
        """Whether the socket file at ``path`` is still the one this server bound."""
        return self._path is not None and self._bound is not None and _file_identity(self._path) == self._bound

    def rebind(self) -> bool:
        """Listen at ``path`` again when the file there is no longer ours (another process bound it, or it
        was removed); live connections are kept. True when it bound anew."""
        if self._path is None or self.owns_path:
            return False
        with self._lock:
            if self._stopping.is_set():
                return False
            listener = _listen_unix(self._path)
            old, started = self._listener, self._started
            if started:
                self._acceptor.remove(self)
            self._listener = listener
            self._bound = _file_identity(self._path)
            if started:
                self._acceptor.add(self)
        for waiting in _pending(old):  # connected before the path was taken: served, not dropped
            self._spawn(waiting)
        with contextlib.suppress(OSError):
            old.close()
        return True

    @property
    def address(self) -> tuple[str, int]:
        """``(host, port)`` of a TCP server."""
        sockname = self._listener.getsockname()
        return str(sockname[0]), int(sockname[1])

    def start(self) -> None:
        with self._lock:
            if self._started or self._stopping.is_set():
                return
            self._started = True
        self._acceptor.add(self)

    def stop(self, timeout: float = 2.0) -> None:
        """Stop accepting, close every connection, join threads, remove the socket file (if still ours)."""
        with self._lock:
            if self._stopping.is_set():
                return
            self._stopping.set()
            started = self._started
        if started:
            self._acceptor.remove(self)
        with self._lock:
            connections = list(self._connections)
        for conn in connections:
            conn.close()
        with self._lock:
            threads = list(self._threads)
        for thread in threads:
            if thread is not threading.current_thread():
                thread.join(timeout)
        with contextlib.suppress(OSError):
            self._listener.close()
        if self._path is not None and self.owns_path:
            with contextlib.suppress(FileNotFoundError):
                self._path.unlink()

    def close_connections(self, predicate: Callable[[Connection], bool]) -> None:
        """Close the live connections for which ``predicate`` is true."""
        with self._lock:
            chosen = [c for c in self._connections if predicate(c)]
        for conn in chosen:
            conn.close()

    def _spawn(self, sock: socket.socket) -> None:
        with self._lock:
            full = len(self._connections) >= MAX_CONNECTIONS_PER_SERVER
        if full:
            _refuse(sock, self.name)
            return
        sock.setblocking(True)
        conn = Connection(sock, self)
        thread = threading.Thread(target=self._run, args=(conn,), name=f"{self.name}-conn", daemon=True)
        with self._lock:
            if self._stopping.is_set():
                conn._release()
                return
            self._connections.add(conn)
            self._threads.add(thread)
            # Started under the lock, so `stop` never sees a thread it cannot join yet.
            thread.start()

    def _run(self, conn: Connection) -> None:
        try:
            self._handler(conn)
        except ConnectionClosed:
            pass
        except Exception:
            log.exception("%s: connection handler failed", self.name)
        finally:
            conn._release()
            with self._lock:
                self._connections.discard(conn)
                self._threads.discard(threading.current_thread())
