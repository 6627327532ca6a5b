"""GPUs: whole devices, partitions from shared counters, memory shares; time slicing by opaque config."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from fakedevices.emulator.base import SessionEndpoint
from fakedevices.emulator.listen import Listen
from fakedevices.kinds.base import Allocation, BuildContext, ContainerEdits, DeviceAccess, DeviceKind
from fakedevices.kinds.emulator_config import config_from_identity
from fakedevices.kinds.gpu.cdi import gpu_container_edits
from fakedevices.kinds.gpu.config import GpuConfig, parse_gpu_config
from fakedevices.kinds.gpu.device import GpuIdentity, build_gpus
from fakedevices.kinds.gpu.emulator import GpuEmulator, GpuEmulatorConfig
from fakedevices.kinds.gpu.host import open_gpu_session
from fakedevices.kinds.gpu.options import GpuOptions, parse_gpu_options
from fakedevices.kinds.placement import OnNode
from fakedevices.model import Card, Inventory
from fakedevices.spec.reader import Reader


class GpuKind(DeviceKind[GpuOptions, GpuConfig, GpuEmulator]):
    name = "gpu"
    placement = OnNode()
    config_kind = "GpuConfig"

    def parse_options(self, reader: Reader) -> GpuOptions:
        return parse_gpu_options(reader)

    def build(self, ctx: BuildContext, options: GpuOptions) -> Inventory:
        return build_gpus(ctx, options)

    def parse_config(self, parameters: Mapping[str, Any], path: str) -> GpuConfig:
        return parse_gpu_config(parameters, path)

    def default_config(self) -> GpuConfig:
        return GpuConfig()

    def emulator(self, card: Card, state_dir: Path, listen: Listen) -> GpuEmulator:
        identity: GpuIdentity = card.identity
        return config_from_identity(GpuEmulatorConfig, card, compute_units=identity.compute_slices).emulator(state_dir)

    def open_session(self, emulator: GpuEmulator, allocation: Allocation[GpuConfig]) -> SessionEndpoint:
        return open_gpu_session(emulator, allocation)

    def container_edits(self, access: DeviceAccess[GpuConfig]) -> ContainerEdits:
        return gpu_container_edits(access)

    def standalone_emulator(self, entry: Mapping[str, Any], state_dir: Path, listen: Listen) -> GpuEmulator:
        return GpuEmulatorConfig(**entry).emulator(state_dir)


KIND = GpuKind()
