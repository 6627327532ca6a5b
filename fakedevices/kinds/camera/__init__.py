"""Network cameras: pools reachable from several nodes, bandwidth shares, one exclusive controller."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from fakedevices.emulator.base import SessionEndpoint
from fakedevices.emulator.listen import Listen
from fakedevices.kinds.base import Allocation, BuildContext, ContainerEdits, DeviceAccess, DeviceKind
from fakedevices.kinds.camera.cdi import camera_container_edits
from fakedevices.kinds.camera.config import CameraConfig, parse_camera_config
from fakedevices.kinds.camera.device import CAMERA_NETWORK_CIDR, CAMERA_PORT, build_cameras, camera_ip
from fakedevices.kinds.camera.emulator import CameraEmulator, CameraEmulatorConfig
from fakedevices.kinds.camera.host import open_camera_session
from fakedevices.kinds.camera.options import CameraOptions, parse_camera_options
from fakedevices.kinds.emulator_config import config_from_identity
from fakedevices.kinds.placement import OnNetwork
from fakedevices.model import Card, Inventory
from fakedevices.spec.reader import Reader


class CameraKind(DeviceKind[CameraOptions, CameraConfig, CameraEmulator]):
    name = "camera"
    placement = OnNetwork(CAMERA_NETWORK_CIDR, CAMERA_PORT, camera_ip)
    config_kind = "CameraConfig"

    def parse_options(self, reader: Reader) -> CameraOptions:
        pool = reader.data.get("name")
        return parse_camera_options(reader, pool if isinstance(pool, str) else "default")

    def build(self, ctx: BuildContext, options: CameraOptions) -> Inventory:
        return build_cameras(ctx, options)

    def parse_config(self, parameters: Mapping[str, Any], path: str) -> CameraConfig:
        return parse_camera_config(parameters, path)

    def default_config(self) -> CameraConfig:
        return CameraConfig()

    def emulator(self, card: Card, state_dir: Path, listen: Listen) -> CameraEmulator:
        return config_from_identity(CameraEmulatorConfig, card).emulator(state_dir, listen)

    def open_session(self, emulator: CameraEmulator, allocation: Allocation[CameraConfig]) -> SessionEndpoint:
        return open_camera_session(emulator, allocation)

    def container_edits(self, access: DeviceAccess[CameraConfig]) -> ContainerEdits:
        return camera_container_edits(access)

    def standalone_emulator(self, entry: Mapping[str, Any], state_dir: Path, listen: Listen) -> CameraEmulator:
        return CameraEmulatorConfig(**entry).emulator(state_dir, listen)


KIND = CameraKind()
