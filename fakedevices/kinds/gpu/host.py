"""What the plugin does with a GPU's emulator: open a session per allocated device, with its share."""

from __future__ import annotations

from fakedevices.emulator.base import SessionEndpoint
from fakedevices.kinds.base import Allocation
from fakedevices.kinds.gpu.config import GpuConfig
from fakedevices.kinds.gpu.emulator import GpuEmulator
from fakedevices.quantity import parse_quantity


def open_gpu_session(emulator: GpuEmulator, allocation: Allocation[GpuConfig]) -> SessionEndpoint:
    device = allocation.device
    config = allocation.config
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
