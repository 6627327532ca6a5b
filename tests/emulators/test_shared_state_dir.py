"""Two processes serving one state dir (plugin instances during an upgrade), played by two emulators or
servers in this process: the newest bind answers, a session opened while the other serves its socket
leaves the path to it, neither removes the other's socket file, the one that stays takes the paths back,
a stale socket file is replaced and any other file refused, and a network device's tokens and fixed port
work in both."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from fakedevices.emulator.errors import EmulatorError
from fakedevices.emulator.listen import Listen
from fakedevices.emulator.protocol import ok
from fakedevices.emulator.server import Connection, LineServer, serve_requests
from fakedevices.emulator.session_keys import KEY_FILE
from fakedevices.kinds.camera.emulator import CameraEmulator
from fakedevices.kinds.gpu.emulator import GpuEmulator, SharingMode
from tests.emulators.conftest import CAMERA, GPU


def _ask(path: Path, request: dict[str, object]) -> dict[str, object]:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(10)
        sock.connect(str(path))
        sock.sendall(json.dumps(request).encode() + b"\n")
        answer: dict[str, object] = json.loads(sock.makefile("rb").readline())
        return answer


def _tagged(tag: str, path: Path) -> LineServer:
    def handle(conn: Connection) -> None:
        serve_requests(conn, lambda c, request: ok(tag=tag))

    server = LineServer.unix(tag, path, handle)
    server.start()
    return server


def test_the_newest_bind_answers_and_the_older_server_leaves_its_file_alone(state_dir: Path) -> None:
    path = state_dir / "shared.sock"
    old = _tagged("old", path)
    new = _tagged("new", path)
    try:
        assert _ask(path, {"op": "x"})["tag"] == "new"
        assert new.owns_path and not old.owns_path
        old.stop()
        assert path.exists() and _ask(path, {"op": "x"})["tag"] == "new"
    finally:
        new.stop()
    assert not path.exists()


def test_rebind_takes_the_path_back_and_keeps_live_connections(state_dir: Path) -> None:
    path = state_dir / "shared.sock"
    stays = _tagged("stays", path)
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as live:
            live.settimeout(10)
            live.connect(str(path))
            reader = live.makefile("rb")
            leaves = _tagged("leaves", path)
            leaves.stop()
            assert not path.exists()
            assert stays.rebind() and stays.owns_path and not stays.rebind()
            assert _ask(path, {"op": "x"})["tag"] == "stays"
            live.sendall(b'{"op": "x"}\n')
            assert json.loads(reader.readline())["tag"] == "stays", "the connection from before the rebind ended"
    finally:
        stays.stop()


def test_a_session_the_other_emulator_serves_is_left_to_it_until_reclaimed(state_dir: Path) -> None:
    first, second = GpuEmulator(GPU, state_dir), GpuEmulator(GPU, state_dir)
    limits = {"sharing": SharingMode.EXCLUSIVE, "memory_bytes": 1 << 20}
    first.start()
    try:
        endpoint = first.open_session("claim-a", **limits)
        assert endpoint.socket_path is not None
        second.start()
        assert second.open_session("claim-a", **limits) == endpoint
        assert first.sockets_held() == [endpoint.socket_path], "the second emulator took a path the first serves"
        assert second.sockets_held() == [second.device_socket], "every start takes the whole-device socket"
        assert second.reclaim_sockets() == 1 and first.sockets_held() == []
        first.stop()
        assert _ask(endpoint.socket_path, {"op": "info"})["session"]["id"] == "claim-a"  # type: ignore[index]
        assert _ask(second.device_socket, {"op": "ping"})["pong"] is True
    finally:
        first.stop()
        second.stop()


def test_the_emulator_that_stays_reclaims_the_paths_of_the_one_that_left(state_dir: Path) -> None:
    stays, leaves = GpuEmulator(GPU, state_dir), GpuEmulator(GPU, state_dir)
    stays.start()
    try:
        endpoint = stays.open_session("claim-b", sharing=SharingMode.EXCLUSIVE, memory_bytes=1 << 20)
        assert endpoint.socket_path is not None
        leaves.start()
        leaves.open_session("claim-b", sharing=SharingMode.EXCLUSIVE, memory_bytes=1 << 20)
        assert leaves.reclaim_sockets() == 1  # the newest takes every path
        leaves.stop()
        assert not endpoint.socket_path.exists() and stays.sockets_held() == []
        assert stays.reclaim_sockets() == 2 and stays.reclaim_sockets() == 0
        assert _ask(endpoint.socket_path, {"op": "info"})["session"]["id"] == "claim-b"  # type: ignore[index]
    finally:
        stays.stop()


def test_a_session_whose_socket_no_one_serves_takes_the_path_at_once(state_dir: Path) -> None:
    """A socket file left by a process that died: connecting is refused, so the path is taken."""
    stays = GpuEmulator(GPU, state_dir)
    path = stays.session_socket_path("claim-c")
    path.parent.mkdir(parents=True)
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as dead:
        dead.bind(str(path))
    stays.start()
    try:
        stays.open_session("claim-c", sharing=SharingMode.EXCLUSIVE, memory_bytes=1 << 20)
        assert path in stays.sockets_held()
        assert _ask(path, {"op": "info"})["session"]["id"] == "claim-c"  # type: ignore[index]
    finally:
        stays.stop()
    assert not path.exists()


def test_a_file_that_is_not_a_socket_is_never_replaced(state_dir: Path) -> None:
    path = state_dir / "taken.sock"
    path.write_text("not a socket")
    with pytest.raises(EmulatorError, match="not a socket"):
        _tagged("new", path)
    assert path.read_text() == "not a socket"
    assert [p.name for p in state_dir.iterdir()] == ["taken.sock"], "a hidden socket file was left behind"


def test_a_socket_file_is_replaced_in_one_step_with_the_servers_mode(state_dir: Path) -> None:
    path = state_dir / "shared.sock"
    old = _tagged("old", path)
    try:
        inode = path.stat().st_ino
        new = LineServer.unix("new", path, lambda conn: serve_requests(conn, lambda c, r: ok(tag="new")), mode=0o600)
        new.start()
        try:
            assert path.stat().st_ino != inode and path.stat().st_mode & 0o777 == 0o600
            assert _ask(path, {"op": "x"})["tag"] == "new"
            assert [p.name for p in state_dir.iterdir()] == ["shared.sock"]
        finally:
            new.stop()
    finally:
        old.stop()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_two_cameras_on_one_state_dir_share_a_fixed_port_and_give_a_session_the_same_token(state_dir: Path) -> None:
    listen = Listen("127.0.0.1", _free_port())
    first, second = CameraEmulator(CAMERA, state_dir, listen), CameraEmulator(CAMERA, state_dir, listen)
    first.start()
    try:
        second.start()
        a, b = first.open_session("claim-c", bandwidth_mbps=4), second.open_session("claim-c", bandwidth_mbps=4)
        assert a.token and a.token == b.token and a.address == b.address == ("127.0.0.1", listen.port)
        assert first.open_session("claim-d", bandwidth_mbps=4).token != a.token
        assert (state_dir / CAMERA.name / KEY_FILE).stat().st_mode & 0o777 == 0o600
    finally:
        first.stop()
        second.stop()
    again = CameraEmulator(CAMERA, state_dir, listen)
    again.start()
    try:
        assert again.open_session("claim-c", bandwidth_mbps=4).token == a.token, "a restart changed the token"
    finally:
        again.stop()
