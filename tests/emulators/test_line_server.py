"""The line server's shared acceptor: many listeners, one accept thread; a stopped server accepts nothing."""

from __future__ import annotations

import json
import socket
import threading
from pathlib import Path

import pytest

from fakedevices.emulator.protocol import ok
from fakedevices.emulator.server import Connection, LineServer, serve_requests
from fakedevices.kinds.gpu.emulator import GpuEmulator, SharingMode
from tests.emulators.conftest import GPU


def _ask(path: Path, request: dict[str, object]) -> dict[str, object]:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(10)
        sock.connect(str(path))
        sock.sendall(json.dumps(request).encode() + b"\n")
        reader = sock.makefile("rb")
        answer: dict[str, object] = json.loads(reader.readline())
        return answer


def _echo(tag: str):  # type: ignore[no-untyped-def]
    def handle(conn: Connection) -> None:
        serve_requests(conn, lambda c, request: ok(tag=tag))

    return handle


def test_sessions_cost_a_socket_not_a_thread(state_dir: Path) -> None:
    gpu = GpuEmulator(GPU, state_dir)
    gpu.start()
    try:
        before = threading.active_count()
        endpoints = [
            gpu.open_session(f"claim-{i}", sharing=SharingMode.TIME_SLICED, memory_bytes=1 << 20) for i in range(40)
        ]
        assert threading.active_count() - before <= 1, "each session started a thread of its own"
        for endpoint in endpoints:
            assert endpoint.socket_path is not None
            answer = _ask(endpoint.socket_path, {"op": "info"})
            assert answer["ok"] is True
            assert answer["session"]["id"] == endpoint.session_id  # type: ignore[index]
        gpu.close_session("claim-0")
        assert not endpoints[0].socket_path.parent.exists()
    finally:
        gpu.stop()
    assert list((state_dir / GPU.name / "sessions").glob("*/*")) == []


def test_stopped_server_accepts_nothing_and_its_neighbours_keep_serving(state_dir: Path) -> None:
    first = LineServer.unix("first", state_dir / "first.sock", _echo("first"))
    second = LineServer.unix("second", state_dir / "second.sock", _echo("second"))
    first.start()
    second.start()
    assert _ask(state_dir / "first.sock", {"op": "x"})["tag"] == "first"
    first.stop()
    assert not (state_dir / "first.sock").exists()
    with pytest.raises((FileNotFoundError, ConnectionRefusedError)):
        _ask(state_dir / "first.sock", {"op": "x"})
    # A new listener may get the stopped one's file descriptor: it answers as itself.
    third = LineServer.unix("third", state_dir / "third.sock", _echo("third"))
    third.start()
    assert _ask(state_dir / "second.sock", {"op": "x"})["tag"] == "second"
    assert _ask(state_dir / "third.sock", {"op": "x"})["tag"] == "third"
    second.stop()
    third.stop()


def test_a_server_that_does_not_take_binds_only_a_path_no_one_serves(state_dir: Path) -> None:
    free = LineServer.unix("free", state_dir / "free.sock", _echo("free"), take=False)
    free.start()
    assert free.owns_path and _ask(state_dir / "free.sock", {"op": "x"})["tag"] == "free"

    stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stale.bind(str(state_dir / "stale.sock"))
    stale.close()  # a socket file no process listens on
    taken = LineServer.unix("taken", state_dir / "stale.sock", _echo("taken"), take=False)
    taken.start()
    assert taken.owns_path and _ask(state_dir / "stale.sock", {"op": "x"})["tag"] == "taken"

    waiting = LineServer.unix("waiting", state_dir / "free.sock", _echo("waiting"), take=False)
    waiting.start()
    assert not waiting.owns_path and _ask(state_dir / "free.sock", {"op": "x"})["tag"] == "free"
    assert waiting.rebind() and _ask(state_dir / "free.sock", {"op": "x"})["tag"] == "waiting"
    for server in (free, taken, waiting):
        server.stop()
    assert not (state_dir / "free.sock").exists() and not (state_dir / "stale.sock").exists()


def test_stop_ends_live_connections(state_dir: Path) -> None:
    server = LineServer.unix("live", state_dir / "live.sock", _echo("live"))
    server.start()
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(10)
        sock.connect(str(state_dir / "live.sock"))
        sock.sendall(b'{"op": "x"}\n')
        reader = sock.makefile("rb")
        assert json.loads(reader.readline())["tag"] == "live"
        server.stop()
        assert reader.readline() == b""  # the server shut the connection down
