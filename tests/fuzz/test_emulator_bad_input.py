"""Each emulator breakage of issue 14, fixed at its cause, on real sockets."""

from __future__ import annotations

import json
import logging
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from fakedevices.emulator import EmulatorRunner
from fakedevices.emulator.errors import EmulatorError
from fakedevices.emulator.protocol import MAX_LINE_BYTES, ok
from fakedevices.emulator.server import MAX_CONNECTIONS_PER_SERVER, Connection, LineServer
from fakedevices.kinds.camera.emulator import CameraEmulator, CameraEmulatorConfig
from fakedevices.kinds.gpu.emulator import MAX_ALLOCATIONS_PER_CONNECTION, GpuEmulator
from tests.emulators.conftest import CAMERA, GPU
from tests.fuzz.conftest import Devices
from tests.fuzz.wire import RawPeer

PING = b'{"op":"ping"}\n'


def _session_socket(devices: Devices) -> Path:
    assert devices.gpu.socket_path is not None
    return devices.gpu.socket_path


def test_oversized_line_gets_one_reply(devices: Devices) -> None:
    with RawPeer(_session_socket(devices)) as peer:
        peer.send(b'{"op":"' + b"x" * (10 * MAX_LINE_BYTES) + b'"}\n' + PING)
        first = peer.reply()
        assert first["ok"] is False and "longer than" in first["error"]
        assert peer.reply() == {"ok": True, "pong": True}


def test_long_op_name_is_not_echoed_whole(devices: Devices) -> None:
    with RawPeer(_session_socket(devices)) as peer:
        reply = peer.ask({"op": "x" * 100_000})
    assert reply["ok"] is False and "unknown op" in reply["error"]
    assert len(reply["error"]) < 300


@pytest.mark.parametrize(
    "line",
    [
        b'{"op":"alloc","bytes":' + b"9" * 5000 + b"}",
        b"[" * 100_000 + b"]" * 100_000,
        b'{"op":"alloc","bytes":"' + b"'\\\"" * 300_000 + b'"}',
    ],
    ids=["5000-digits", "deep-line", "long-string-field"],
)
def test_numbers_nesting_and_long_values_answered_briefly(
    devices: Devices, line: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR), RawPeer(_session_socket(devices)) as peer:
        peer.send(line + b"\n" + PING)
        first = peer.reply()
        assert first["ok"] is False and len(first["error"]) < 500, str(first)[:300]
        assert peer.reply() == {"ok": True, "pong": True}
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


@pytest.mark.parametrize("value", ["1" + "0" * 400, "NaN", "Infinity"])
def test_camera_numbers_that_are_not_finite(devices: Devices, value: str) -> None:
    assert devices.camera.address is not None
    token = devices.camera.token
    with RawPeer(devices.camera.address) as peer:
        peer.send(f'{{"op":"ptz","token":"{token}","pan":{value}}}\n'.encode())
        assert peer.reply()["ok"] is False
        peer.send(f'{{"op":"stream","token":"{token}","frames":1,"seconds":{value}}}\n'.encode())
        reply = peer.reply()
        assert reply["ok"] is False and "finite" in reply["error"], reply
        assert peer.ask({"op": "ping"})["pong"] is True


def test_connections_are_capped_and_the_server_keeps_serving(devices: Devices) -> None:
    where = _session_socket(devices)
    before = threading.active_count()
    held = [RawPeer(where) for _ in range(MAX_CONNECTIONS_PER_SERVER)]
    try:
        for peer in held:  # each is served (its thread started) before the next test
            assert peer.ask({"op": "ping"})["pong"] is True
        extra = [RawPeer(where) for _ in range(20)]
        for peer in extra:
            refused = peer.reply()
            assert refused["ok"] is False and "connections are open already" in refused["error"]
            assert peer.line() == b""
            peer.close()
        assert threading.active_count() <= before + MAX_CONNECTIONS_PER_SERVER
        assert held[0].ask({"op": "ping"})["pong"] is True
    finally:
        for peer in held:
            peer.close()
    deadline = time.monotonic() + 10
    while True:  # closed connections free their places: a new one is served again
        with RawPeer(where) as peer:
            if peer.ask({"op": "ping"}).get("pong"):
                break
        assert time.monotonic() < deadline, "no place freed after closing every connection"


def test_allocations_per_connection_are_capped(devices: Devices) -> None:
    with RawPeer(_session_socket(devices)) as peer:
        count = MAX_ALLOCATIONS_PER_CONNECTION + 5
        peer.send(b'{"op":"alloc","bytes":1}\n' * count)
        replies = [peer.reply() for _ in range(count)]
        assert all(r["ok"] for r in replies[:MAX_ALLOCATIONS_PER_CONNECTION])
        refused = replies[MAX_ALLOCATIONS_PER_CONNECTION]
        assert refused["ok"] is False and "free some" in refused["error"]
        unknown = peer.ask({"op": "free", "handle": "nope"})
        assert unknown["ok"] is False and len(unknown["error"]) < 300


def test_camera_frames_fit_the_line_limit() -> None:
    root = Path(tempfile.mkdtemp(prefix="dfz-", dir="/tmp"))
    config = CameraEmulatorConfig(**{**CAMERA.__dict__, "name": "cam-big", "fps": 1, "bandwidth_mbps": 100})
    try:
        with EmulatorRunner(root, [config]) as runner:
            endpoint = runner.get_as("cam-big", CameraEmulator).open_session("big")
            assert endpoint.address is not None
            with RawPeer(endpoint.address) as peer:
                peer.send(json.dumps({"op": "stream", "token": endpoint.token, "frames": 1}).encode() + b"\n")
                frame = peer.line()
                assert len(frame) <= MAX_LINE_BYTES
                assert json.loads(frame)["frame"]["seq"] == 1
    finally:
        shutil.rmtree(root, ignore_errors=True)


def test_a_reply_over_the_line_limit_becomes_an_error() -> None:
    ours, theirs = socket.socketpair()
    server = LineServer("pair", socket.socket(socket.AF_UNIX, socket.SOCK_STREAM), lambda c: None)
    conn = Connection(ours, server)
    try:
        conn.send(ok(data="x" * MAX_LINE_BYTES))
        theirs.settimeout(10)
        reply = json.loads(theirs.makefile("rb").readline())
        assert reply["ok"] is False and "over the protocol's limit" in reply["error"]
    finally:
        conn._release()
        theirs.close()


@pytest.fixture
def long_root() -> Iterator[Path]:
    root = Path(tempfile.mkdtemp(prefix="dfz-", dir="/tmp"))
    yield root
    shutil.rmtree(root, ignore_errors=True)


def test_too_long_state_path_leaves_nothing_behind(long_root: Path) -> None:
    state = long_root / ("d" * 80) / "emulators"
    runner = EmulatorRunner(state, [GPU])
    with pytest.raises(EmulatorError, match="use a shorter emulator state dir"):
        runner.start()
    assert list(long_root.iterdir()) == []


def test_too_long_session_path_leaves_no_session_dir(long_root: Path) -> None:
    state = long_root / ("d" * (107 - len(str(long_root)) - 60))
    with EmulatorRunner(state, [GPU]) as runner:
        gpu = runner.get_as(GPU.name, GpuEmulator)
        sessions = gpu.sessions_dir
        with pytest.raises(EmulatorError, match="use a shorter emulator state dir"):
            gpu.open_session("a" * 40)
        assert list(sessions.iterdir()) == []


@pytest.mark.parametrize(
    "config", ['{"gpu": [GPU]}', "[1, 2]", "[" * 5000 + "]" * 5000], ids=["long-path", "list", "deep"]
)
def test_standalone_emulator_refuses_cleanly(long_root: Path, config: str) -> None:
    gpu = json.dumps({k: v for k, v in GPU.__dict__.items()})
    config_file = long_root / "devices.json"
    config_file.write_text(config.replace("GPU", gpu))
    state = long_root / ("d" * 90)
    result = subprocess.run(
        [sys.executable, "-m", "fakedevices.emulator", "--state-dir", str(state), "--config", str(config_file)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2, result
    assert "Traceback" not in result.stderr and "fakedevices.emulator: " in result.stderr
    assert not state.exists()
