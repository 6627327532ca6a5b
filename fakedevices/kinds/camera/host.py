"""What the plugin does with a camera's emulator: build it, open a viewer (or controller) session."""

from __future__ import annotations

from fakedevices.emulator.base import SessionEndpoint
from fakedevices.kinds.base import Allocation
from fakedevices.kinds.camera.config import CameraConfig
from fakedevices.kinds.camera.device import CameraIdentity
from fakedevices.kinds.camera.emulator import CameraEmulator, CameraEmulatorConfig
from fakedevices.model import Card
from fakedevices.quantity import parse_quantity


def camera_emulator_config(card: Card) -> CameraEmulatorConfig:
    identity: CameraIdentity = card.identity
    return CameraEmulatorConfig(
        name=card.name,
        serial=identity.serial,
        model=identity.model,
        resolution=identity.resolution,
        fps=identity.fps,
        codec=identity.codec,
        zone=identity.zone,
        bandwidth_mbps=identity.bandwidth_mbps,
    )


def open_camera_session(emulator: CameraEmulator, allocation: Allocation) -> SessionEndpoint:
    config: CameraConfig = allocation.config or CameraConfig()
    identity: CameraIdentity = allocation.card.identity
    bandwidth: float = identity.bandwidth_mbps
    if "bandwidth" in allocation.consumed_capacity:
        bandwidth = float(parse_quantity(allocation.consumed_capacity["bandwidth"]) / 10**6)
    if config.bandwidth_mbps is not None:
        bandwidth = min(bandwidth, config.bandwidth_mbps)
    return emulator.open_session(allocation.session_id, bandwidth_mbps=bandwidth, control=config.mode == "control")
