"""The node runner and session lifecycle: sockets appear and disappear, connections end, threads are safe."""

from __future__ import annotations

import dataclasses
import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from fakedevices.emulator import EmulatorError, EmulatorRunner
from fakedevices.emulator.base import session_file_name
from fakedevices.kinds.camera.emulator import CameraEmulator
from fakedevices.kinds.fpga.emulator import FpgaEmulator
from fakedevices.kinds.gpu.emulator import GpuEmulator
from tests.emulators.conftest import CAMERA, FPGA, GPU, ClientRun
from tests.workers import run_workers


def _sockets(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_socket())


def test_runner_starts_serves_and_removes_every_socket(state_dir: Path, client: ClientRun) -> None:
    runner = EmulatorRunner(state_dir, [GPU, FPGA, CAMERA])
    runner.start()
    gpu_env = runner.get_as("gpu-0", GpuEmulator).open_session("claim-a").container_env()
    runner.get_as("fpga-0", FpgaEmulator).open_session("claim-b")
    runner.get_as("cam-0", CameraEmulator).open_session("claim-c")
    assert [p.relative_to(state_dir).as_posix() for p in _sockets(state_dir)] == [
        "fpga-0/device.sock",
        "fpga-0/sessions/claim-b/session.sock",
        "gpu-0/device.sock",
        "gpu-0/sessions/claim-a/session.sock",
    ]
    assert client("gpu-info", env=gpu_env).returncode == 0

    runner.stop()
    runner.stop()

    assert _sockets(state_dir) == []
    gone = client("gpu-info", env=gpu_env)
    assert gone.returncode == 2 and "cannot connect" in gone.output["error"], gone
    with pytest.raises(EmulatorError, match="already in this runner"):
        runner.add(GPU)


def test_closing_a_session_ends_its_connections(runner: EmulatorRunner) -> None:
    gpu = runner.get_as("gpu-0", GpuEmulator)
    endpoint = gpu.open_session("claim-a")
    assert endpoint.socket_path is not None
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
        conn.settimeout(10)
        conn.connect(str(endpoint.socket_path))
        reader = conn.makefile("rb")
        conn.sendall(b'{"op":"alloc","bytes":1024}\n')
        assert json.loads(reader.readline())["used_bytes"] == 1024

        gpu.close_session("claim-a")

        assert reader.readline() == b""  # EOF: the container's session is gone
    assert not endpoint.socket_path.exists()
    assert gpu.used_bytes == 0


def test_long_session_ids_get_short_socket_names(runner: EmulatorRunner, client: ClientRun) -> None:
    claim_uid = "default/" + "x" * 60 + "/3f1e8a52-2d2b-4c0e-9d7e-5a6b7c8d9e0f"
    endpoint = runner.get_as("gpu-0", GpuEmulator).open_session(claim_uid)

    assert endpoint.socket_path is not None
    directory = endpoint.socket_path.parent.name
    assert directory == session_file_name(claim_uid)
    assert directory.startswith("s-") and len(directory) == 18
    assert client("gpu-info", env=endpoint.container_env()).output["session"]["id"] == claim_uid


def test_concurrent_host_calls_are_safe(state_dir: Path) -> None:
    gpus = [dataclasses.replace(GPU, name=f"gpu-{i}", index=i, uuid=f"GPU-{i}") for i in range(4)]
    errors: list[BaseException] = []
    with EmulatorRunner(state_dir, gpus) as runner:

        def churn(worker: int) -> None:
            try:
                for round_ in range(5):
                    for gpu in runner.names:
                        sid = f"w{worker}-r{round_}"
                        runner.get_as(gpu, GpuEmulator).open_session(
                            sid, sharing="time-sliced", memory_bytes=GPU.memory_bytes
                        )
                        runner.get_as(gpu, GpuEmulator).close_session(sid)
            except BaseException as exc:  # reported below
                errors.append(exc)

        run_workers(churn, 6)
        assert errors == []
        assert all(runner.get(name).session_ids == [] for name in runner.names)
    assert _sockets(state_dir) == []


CLI = [sys.executable, "-m", "fakedevices.emulator"]


def test_standalone_runner_process(state_dir: Path, client: ClientRun) -> None:
    config = state_dir / "devices.json"
    fpga = {**dataclasses.asdict(FPGA), "bitstream": {"name": "crc32", "family": FPGA.family, "sha256": "a" * 64}}
    config.write_text(json.dumps({"gpu": [dataclasses.asdict(GPU)], "fpga": [fpga]}))
    proc = subprocess.Popen(
        [*CLI, "--config", str(config), "--session", "demo", "--state-dir", str(state_dir / "run")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        lines = [json.loads(proc.stdout.readline()) for _ in range(3)]
        assert lines[-1]["ready"] is True, proc.stderr.read() if proc.stderr else ""
        env = {**lines[0]["env"], **lines[1]["env"]}
        assert client("fpga-run", "--input", "abc", "--check", env=env).returncode == 0
        assert client("gpu-run", "--check", env=env).returncode == 0
    finally:
        proc.terminate()
        proc.communicate(timeout=20)
    assert proc.returncode == 0
    assert _sockets(state_dir) == []
