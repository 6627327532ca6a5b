"""GPUs: whole devices, partitions from shared counters, memory shares; time slicing by opaque config."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fakedevices.kinds.base import Allocation, BuildContext, ContainerEdits, DeviceAccess, Placement
from fakedevices.kinds.gpu.cdi import gpu_container_edits
from fakedevices.kinds.gpu.config import GpuConfig, parse_gpu_config
from fakedevices.kinds.gpu.device import build_gpus
from fakedevices.kinds.gpu.host import gpu_emulator_config, open_gpu_session
from fakedevices.kinds.gpu.options import GpuOptions, parse_gpu_options
from fakedevices.model import Card, Inventory
from fakedevices.spec.reader import Reader


class GpuKind:
    name = "gpu"
    placement: Placement = "node"
    config_kind = "GpuConfig"

    def parse_options(self, reader: Reader) -> GpuOptions:
        return parse_gpu_options(reader)

    def count(self, options: GpuOptions) -> int:
        return options.count

    def build(self, ctx: BuildContext, options: GpuOptions) -> Inventory:
        return build_gpus(ctx, options)

    def parse_config(self, parameters: Mapping[str, Any], path: str) -> GpuConfig:
        return parse_gpu_config(parameters, path)

    def default_config(self) -> GpuConfig:
        return GpuConfig()

    def container_edits(self, access: DeviceAccess) -> ContainerEdits:
        return gpu_container_edits(access)

    def emulator_config(self, card: Card) -> Any:
        return gpu_emulator_config(card)

    def open_session(self, emulator: Any, allocation: Allocation) -> Any:
        return open_gpu_session(emulator, allocation)


KIND = GpuKind()
