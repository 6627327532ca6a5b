"""What the plugin does with a camera's emulator: open a viewer (or controller) session with its share."""

from __future__ import annotations

from fakedevices.emulator.base import SessionEndpoint
from fakedevices.kinds.base import Allocation
from fakedevices.kinds.camera.config import CameraConfig
from fakedevices.kinds.camera.device import CameraIdentity
from fakedevices.kinds.camera.emulator import CameraEmulator
from fakedevices.quantity import parse_quantity


def open_camera_session(emulator: CameraEmulator, allocation: Allocation[CameraConfig]) -> SessionEndpoint:
    config = allocation.config
    identity: CameraIdentity = allocation.card.identity
    bandwidth: float = identity.bandwidth_mbps
    if "bandwidth" in allocation.consumed_capacity:
        bandwidth = float(parse_quantity(allocation.consumed_capacity["bandwidth"]) / 10**6)
    if config.bandwidth_mbps is not None:
        bandwidth = min(bandwidth, config.bandwidth_mbps)
    return emulator.open_session(allocation.session_id, bandwidth_mbps=bandwidth, control=config.mode == "control")
