"""A small threaded line-JSON server over a unix or TCP listening socket.

Every server's listener is watched by one shared ``Acceptor`` thread (a session socket costs a
``bind``, not a thread); each accepted connection gets a thread of its own, at most
``MAX_CONNECTIONS_PER_SERVER`` at once (more are answered with an error). ``stop()`` unregisters the
listener (no connection is accepted after it returns), shuts down every live connection (so handlers
blocked in ``recv`` return), joins their threads and removes the unix socket file. Safe to call from any
thread, and more than once.

Another process serving the same state dir (a second plugin instance during an upgrade) may serve a
unix socket path too; a path is taken by replacing its file in one step (``socket_files``), and the
last to take it answers new connections. A server removes its socket file only while the file is still
the one it bound, and ``rebind()`` takes the path (back). A server made with ``take=False`` takes its
path only when nothing serves it; else it waits, without a listener, for ``rebind()``.
"""

from __future__ import annotations

import contextlib
import logging
import selectors
import socket
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fakedevices.emulator.errors import EmulatorError, RequestError
from fakedevices.emulator.protocol import MAX_LINE_BYTES, Message, ProtocolError, decode, encode, error
from fakedevices.emulator.socket_files import FileIdentity, file_identity, listen_at, served

log = logging.getLogger(__name__)

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
        self._servers: dict[int, tuple[LineServer, socket.socket]] = {}
        self._thread: threading.Thread | None = None

    def add(self, server: LineServer, listener: socket.socket) -> None:
        listener.setblocking(False)
        with self._lock:
            self._servers[listener.fileno()] = (server, listener)
            self._selector.register(listener, selectors.EVENT_READ)
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name=f"{self.name}-accept", daemon=True)
                self._thread.start()

    def remove(self, listener: socket.socket) -> None:
        fd = listener.fileno()
        with self._lock:
            if (entry := self._servers.get(fd)) is not None and entry[1] is listener:
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
                    entry = self._servers.get(key.fd)
                    if entry is None:
                        continue
                    try:
                        sock, _ = entry[1].accept()
                    except OSError:
                        continue
                    ready.append((entry[0], sock))
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


class LineServer:
    """Accepts connections on ``listener`` and runs ``handler(conn)`` in a thread per connection. A unix
    server may be without a listener until ``rebind()`` (``unix(..., take=False)``)."""

    def __init__(
        self,
        name: str,
        listener: socket.socket | None,
        handler: Handler,
        *,
        path: Path | None = None,
        bound: FileIdentity | None = None,
        mode: int = 0o666,
    ):
        """``bound``: the identity of the socket file ``listener`` is bound to at ``path``."""
        self.name = name
        self._listener = listener
        self._handler = handler
        self._path = path
        self._bound = bound
        self._mode = mode
        self._acceptor = shared_acceptor()
        self._lock = threading.Lock()
        self._connections: set[Connection] = set()
        self._threads: set[threading.Thread] = set()
        self._started = False
        self._stopping = threading.Event()

    @classmethod
    def unix(cls, name: str, path: Path, handler: Handler, *, mode: int = 0o666, take: bool = True) -> LineServer:
        """Listen on a unix socket at ``path`` with file mode ``mode``, put in place of any socket file there
        (a stale one, or another process's). With ``take=False`` a path another process serves is left to
        it: the server has no listener until ``rebind()``."""
        if not take and file_identity(path) is not None and served(path):
            return cls(name, None, handler, path=path, mode=mode)
        listener, bound = listen_at(path, mode)
        return cls(name, listener, handler, path=path, bound=bound, mode=mode)

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
        return self._path is not None and self._bound is not None and file_identity(self._path) == self._bound

    def rebind(self) -> bool:
        """Listen at ``path`` (again) when the file there is not ours (another process bound it, or it was
        removed, or this server waited without a listener); live connections are kept. True when it bound."""
        if self._path is None or self.owns_path:
            return False
        with self._lock:
            if self._stopping.is_set():
                return False
            listener, self._bound = listen_at(self._path, self._mode)
            old, self._listener = self._listener, listener
            if self._started:
                if old is not None:
                    self._acceptor.remove(old)
                self._acceptor.add(self, listener)
        if old is not None:
            for waiting in _pending(old):  # connected before the path was taken: served, not dropped
                self._spawn(waiting)
            with contextlib.suppress(OSError):
                old.close()
        return True

    @property
    def address(self) -> tuple[str, int]:
        """``(host, port)`` of a TCP server."""
        assert self._listener is not None, "a TCP server always has its listener"
        sockname = self._listener.getsockname()
        return str(sockname[0]), int(sockname[1])

    def start(self) -> None:
        with self._lock:
            if self._started or self._stopping.is_set():
                return
            self._started = True
            if self._listener is not None:
                self._acceptor.add(self, self._listener)

    def stop(self, timeout: float = 2.0) -> None:
        """Stop accepting, close every connection, join threads, remove the socket file (if still ours).

        Looking at the file and removing it are two steps: the caller keeps other processes from taking
        the path in between (the plugin's state lock)."""
        with self._lock:
            if self._stopping.is_set():
                return
            self._stopping.set()
            listener = self._listener
        if listener is not None:
            self._acceptor.remove(listener)
        with self._lock:
            connections = list(self._connections)
        for conn in connections:
            conn.close()
        with self._lock:
            threads = list(self._threads)
        for thread in threads:
            if thread is not threading.current_thread():
                thread.join(timeout)
        if listener is not None:
            with contextlib.suppress(OSError):
                listener.close()
        if self._path is not None and self.owns_path:
            with contextlib.suppress(FileNotFoundError):
                self._path.unlink()

    @property
    def connections(self) -> int:
        """How many connections are open now."""
        with self._lock:
            return len(self._connections)

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
