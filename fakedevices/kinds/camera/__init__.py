"""Network cameras: pools reachable from several nodes, bandwidth shares, one exclusive controller."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fakedevices.kinds.base import Allocation, BuildContext, ContainerEdits, DeviceAccess, Placement
from fakedevices.kinds.camera.cdi import camera_container_edits
from fakedevices.kinds.camera.config import CameraConfig, parse_camera_config
from fakedevices.kinds.camera.device import build_cameras
from fakedevices.kinds.camera.host import camera_emulator_config, open_camera_session
from fakedevices.kinds.camera.options import CameraOptions, parse_camera_options
from fakedevices.model import Card, Inventory
from fakedevices.spec.reader import Reader


class CameraKind:
    name = "camera"
    placement: Placement = "network"
    config_kind = "CameraConfig"

    def parse_options(self, reader: Reader) -> CameraOptions:
        pool = reader.data.get("name")
        return parse_camera_options(reader, pool if isinstance(pool, str) else "default")

    def count(self, options: CameraOptions) -> int:
        return options.count

    def build(self, ctx: BuildContext, options: CameraOptions) -> Inventory:
        return build_cameras(ctx, options)

    def parse_config(self, parameters: Mapping[str, Any], path: str) -> CameraConfig:
        return parse_camera_config(parameters, path)

    def default_config(self) -> CameraConfig:
        return CameraConfig()

    def container_edits(self, access: DeviceAccess) -> ContainerEdits:
        return camera_container_edits(access)

    def emulator_config(self, card: Card) -> Any:
        return camera_emulator_config(card)

    def open_session(self, emulator: Any, allocation: Allocation) -> Any:
        return open_camera_session(emulator, allocation)


KIND = CameraKind()
