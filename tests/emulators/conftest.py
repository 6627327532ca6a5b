"""Fixtures for the emulator tests: real emulators, real sockets, the in-container client as a subprocess.

The client runs the way a container runs it: ``python3 -S -E -m fakedevices.client`` from a directory
that holds only a copy of ``fakedevices/client`` (so it proves to be stdlib only), with the env vars the
CDI edits would set.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from fakedevices.emulator import EmulatorRunner
from fakedevices.kinds.camera.emulator import CameraEmulatorConfig
from fakedevices.kinds.fpga.emulator import FpgaEmulatorConfig
from fakedevices.kinds.gpu.emulator import GpuEmulatorConfig

REPO = Path(__file__).resolve().parents[2]
GiB = 1 << 30
MiB = 1 << 20

GPU = GpuEmulatorConfig(
    name="gpu-0",
    uuid="GPU-5f0c1d2e-7a3b-4c9d-8e1f-0a1b2c3d4e5f",
    model="drafarm-a100",
    index=0,
    memory_bytes=8 * GiB,
    compute_units=108,
    driver_version="550.54.15",
)
FPGA = FpgaEmulatorConfig(
    name="fpga-0",
    serial="FPGA-SN-00042",
    family="agilex7",
    part_number="AGFB014R24A2E2V",
    shell_version="2.1.0",
    regions=2,
    program_seconds=0.25,
)
# 8 Mbps at 50 fps: 20 000-byte frames, one every 20 ms at the full share.
CAMERA = CameraEmulatorConfig(
    name="cam-0",
    serial="CAM-7Q2X9",
    model="drafarm-p3245",
    resolution="1920x1080",
    fps=50,
    codec="h264",
    zone="lobby",
    bandwidth_mbps=8,
)


@dataclass
class ClientResult:
    returncode: int
    output: dict[str, Any]
    stdout: str
    stderr: str

    def __str__(self) -> str:
        return f"exit {self.returncode}\nstdout: {self.stdout}\nstderr: {self.stderr}"


ClientRun = Callable[..., ClientResult]
ClientStart = Callable[..., "subprocess.Popen[str]"]


def _client_argv(*args: str) -> list[str]:
    return [sys.executable, "-S", "-E", "-m", "fakedevices.client", *args]


def _client_env(env: Mapping[str, str]) -> dict[str, str]:
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **env}


@pytest.fixture(scope="session")
def container_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory with only what the container image ships: ``fakedevices/client`` (+ empty package)."""
    root = tmp_path_factory.mktemp("image")
    (root / "fakedevices").mkdir()
    (root / "fakedevices" / "__init__.py").write_text("")
    shutil.copytree(
        REPO / "fakedevices" / "client",
        root / "fakedevices" / "client",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    return root


@pytest.fixture
def client(container_root: Path) -> ClientRun:
    """Run ``python3 -m fakedevices.client ARGS`` with ``env`` as its whole environment."""

    def run(*args: str, env: Mapping[str, str], timeout: float = 30.0) -> ClientResult:
        proc = subprocess.run(
            _client_argv(*args),
            cwd=container_root,
            env=_client_env(env),
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        lines = [line for line in proc.stdout.splitlines() if line.strip()]
        output = json.loads(lines[-1]) if lines else {}
        return ClientResult(proc.returncode, output, proc.stdout, proc.stderr)

    return run


@pytest.fixture
def start_client(container_root: Path) -> Iterator[ClientStart]:
    """Start the client in the background (a long-running viewer); killed at teardown if still running."""
    started: list[subprocess.Popen[str]] = []

    def start(*args: str, env: Mapping[str, str]) -> subprocess.Popen[str]:
        proc = subprocess.Popen(
            _client_argv(*args),
            cwd=container_root,
            env=_client_env(env),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        started.append(proc)
        return proc

    yield start
    for proc in started:
        if proc.poll() is None:
            proc.kill()
        proc.communicate()


@pytest.fixture
def state_dir() -> Iterator[Path]:
    """A short state dir (unix socket paths are limited to 107 bytes; pytest's tmp_path can be long)."""
    path = Path(tempfile.mkdtemp(prefix="df-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def runner(state_dir: Path) -> Iterator[EmulatorRunner]:
    with EmulatorRunner(state_dir, [GPU, FPGA, CAMERA]) as started:
        yield started
