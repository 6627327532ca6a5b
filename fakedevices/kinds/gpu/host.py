"""What the plugin does with a GPU's emulator: build it, and open a session per allocated device."""

from __future__ import annotations

from fakedevices.emulator.base import SessionEndpoint
from fakedevices.kinds.base import Allocation
from fakedevices.kinds.gpu.config import GpuConfig
from fakedevices.kinds.gpu.device import GpuIdentity
from fakedevices.kinds.gpu.emulator import GpuEmulator, GpuEmulatorConfig
from fakedevices.model import Card
from fakedevices.quantity import parse_quantity


def gpu_emulator_config(card: Card) -> GpuEmulatorConfig:
    identity: GpuIdentity = card.identity
    return GpuEmulatorConfig(
        name=card.name,
        uuid=identity.uuid,
        model=identity.model,
        index=identity.index,
        memory_bytes=identity.memory_bytes,
        compute_units=identity.compute_slices,
        driver_version=identity.driver_version,
    )


def open_gpu_session(emulator: GpuEmulator, allocation: Allocation) -> SessionEndpoint:
    device = allocation.device
    config: GpuConfig = allocation.config or GpuConfig()
    memory = int(parse_quantity(device.capacity["memory"].value))
    if "memory" in allocation.consumed_capacity:
        memory = int(parse_quantity(allocation.consumed_capacity["memory"]))
    units = int(parse_quantity(device.capacity["compute"].value))
    if device.attributes["type"].value == "partition":
        limits: dict[str, object] = {
            "sharing": "partition",
            "partition": str(device.attributes["profile"].value),
        }
    elif config.strategy == "TimeSlicing":
        limits = {"sharing": "time-sliced", "time_slice": (config.interval or "Default").lower()}
    elif config.strategy == "SpacePartitioning":
        limits = {"sharing": "partition", "partition": f"space-{config.partition_count}"}
    elif device.allow_multiple_allocations:
        limits = {"sharing": "time-sliced", "time_slice": "default"}
    else:
        limits = {"sharing": "exclusive"}
    return emulator.open_session(allocation.session_id, memory_bytes=memory, compute_units=units, **limits)
