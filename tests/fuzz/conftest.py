"""Real emulators on short state dirs, for the protocol fuzz tests."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from fakedevices.emulator import EmulatorRunner
from fakedevices.emulator.base import SessionEndpoint
from fakedevices.kinds.camera.emulator import CameraEmulator
from fakedevices.kinds.fpga.emulator import Bitstream, FpgaEmulator
from fakedevices.kinds.gpu.emulator import GpuEmulator
from tests.emulators.conftest import CAMERA, FPGA, GPU

VECTOR_ADD = Bitstream("vector-add", FPGA.family, "a" * 64)


@dataclass
class Devices:
    runner: EmulatorRunner
    gpu: SessionEndpoint
    fpga: SessionEndpoint
    camera: SessionEndpoint


@pytest.fixture(scope="module")
def devices() -> Iterator[Devices]:
    root = Path(tempfile.mkdtemp(prefix="dfz-", dir="/tmp"))
    try:
        with EmulatorRunner(root, [GPU, FPGA, CAMERA]) as runner:
            gpu = runner.get_as(GPU.name, GpuEmulator).open_session("fuzz", memory_bytes=GPU.memory_bytes)
            fpga = runner.get_as(FPGA.name, FpgaEmulator).open_session("fuzz")
            runner.get_as(FPGA.name, FpgaEmulator).program("fuzz", VECTOR_ADD, timeout=10)
            camera = runner.get_as(CAMERA.name, CameraEmulator).open_session("fuzz")
            yield Devices(runner, gpu, fpga, camera)
    finally:
        shutil.rmtree(root, ignore_errors=True)
