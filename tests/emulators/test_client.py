"""The in-container client: several devices from indexed env vars, usage errors, a device socket missing or
refusing for a moment (a plugin instance taking over), the shell fallback."""

from __future__ import annotations

import dataclasses
import json
import shutil
import socket
import subprocess
from pathlib import Path

import pytest

from fakedevices.client import env as client_env
from fakedevices.client import transport
from fakedevices.emulator import EmulatorRunner
from fakedevices.kinds.camera.emulator import CameraEmulator
from fakedevices.kinds.fpga.emulator import Bitstream, FpgaEmulator
from fakedevices.kinds.gpu.emulator import GpuEmulator
from tests.emulators.conftest import CAMERA, FPGA, GPU, REPO, ClientRun

SHELL_CLIENT = REPO / "fakedevices" / "client" / "drafarm-dev.sh"


def test_indexed_env_vars_give_several_devices(state_dir: Path, client: ClientRun) -> None:
    second = dataclasses.replace(GPU, name="gpu-1", index=1, uuid="GPU-second")
    with EmulatorRunner(state_dir, [GPU, second, CAMERA]) as runner:
        env = {
            **runner.get_as("gpu-0", GpuEmulator).open_session("claim-a").container_env(device_id="0"),
            **runner.get_as("gpu-1", GpuEmulator).open_session("claim-a").container_env(device_id="1"),
            **runner.get_as("cam-0", CameraEmulator).open_session("claim-a").container_env(device_id="lobby-cam"),
        }
        assert "DRAFARM_GPU_1_SOCKET" in env and "DRAFARM_CAMERA_LOBBY_CAM_TOKEN" in env

        info = client("info", env=env)
        picked = client("gpu-run", "--device", "1", "--check", env=env)
        by_name = client("gpu-info", "--device", "gpu-1", env=env)
        default = client("gpu-info", env=env)

    assert info.returncode == 0, info
    assert [(d["ref"], d["name"]) for d in info.output["devices"]] == [
        ("camera[LOBBY_CAM]", "cam-0"),
        ("gpu[0]", "gpu-0"),
        ("gpu[1]", "gpu-1"),
    ]
    assert picked.returncode == 0 and picked.output["uuid"] == "GPU-second", picked
    assert by_name.output["uuid"] == "GPU-second"
    assert default.output["uuid"] == GPU.uuid


def test_env_var_names() -> None:
    assert client_env.var_name("gpu", "SOCKET") == "DRAFARM_GPU_SOCKET"
    assert client_env.var_name("fpga", "SOCKET", "0") == "DRAFARM_FPGA_0_SOCKET"
    assert client_env.var_name("camera", "ADDR", "cam-3") == "DRAFARM_CAMERA_CAM_3_ADDR"
    refs = client_env.discover({"DRAFARM_GPU_10_SOCKET": "/b", "DRAFARM_GPU_2_SOCKET": "/a", "HOME": "/"})
    assert [(r.kind, r.id, r.socket) for r in refs] == [("gpu", "2", "/a"), ("gpu", "10", "/b")]


def test_no_device_is_a_usage_error(client: ClientRun) -> None:
    result = client("gpu-run", env={})

    assert result.returncode == 2
    assert "DRAFARM_GPU_SOCKET" in result.output["error"]


def test_a_device_socket_that_refuses_for_a_moment_is_tried_again(
    state_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = state_dir / "device.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as listener:
        listener.bind(str(path))  # bound, not listening yet: connections are refused
        pauses: list[float] = []

        def pause(seconds: float) -> None:
            pauses.append(seconds)
            listener.listen(1)  # the plugin instance taking over is serving now

        monkeypatch.setattr(transport.time, "sleep", pause)
        with transport.Connection.unix(str(path), timeout=5):
            assert len(pauses) == 1


def test_a_device_socket_that_stays_missing_fails_with_the_path_once_the_patience_is_spent(state_dir: Path) -> None:
    path = state_dir / "gone.sock"
    with pytest.raises(transport.ClientError, match=f"cannot connect to device socket {path}: .*No such file"):
        transport.Connection.unix(str(path), timeout=0.2)  # the patience is at most the timeout


@pytest.mark.skipif(
    shutil.which("socat") is None and shutil.which("nc") is None, reason="needs socat or nc for the shell client"
)
def test_shell_fallback_client(runner: EmulatorRunner) -> None:
    env = {
        "PATH": "/usr/bin:/bin",
        **runner.get_as("gpu-0", GpuEmulator).open_session("claim-a", memory_bytes=1 << 20).container_env(),
        **runner.get_as("fpga-0", FpgaEmulator).open_session("claim-a").container_env(),
        **runner.get_as("cam-0", CameraEmulator).open_session("claim-a").container_env(),
    }
    runner.get_as("fpga-0", FpgaEmulator).program("claim-a", Bitstream("reverse", FPGA.family, "0" * 64))

    def sh(*args: str) -> tuple[int, list[dict[str, object]]]:
        proc = subprocess.run(["sh", str(SHELL_CLIENT), *args], env=env, capture_output=True, text=True, timeout=30)
        return proc.returncode, [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]

    rc, run = sh("gpu-run", "100")
    assert rc == 0 and run[0]["result"] == 338350
    rc, refused = sh("gpu-alloc", str(2 << 20))
    assert rc == 1 and "share is 1048576 bytes" in str(refused[0]["error"])
    rc, reversed_ = sh("fpga-run", 'say "hi"')
    assert rc == 0 and reversed_[0]["output"] == '"ih" yas'
    rc, frames = sh("camera-frames", "2")
    assert rc == 0 and [f["frame"]["serial"] for f in frames[:2]] == [CAMERA.serial] * 2  # type: ignore[index]
    assert frames[-1]["end"] is True
