"""Network-placed devices on their own addresses (`--camera-hosts own-address`): each camera of a pool
with a `bindAddress` binds its own address at the camera port, so a pool of several starts."""

from __future__ import annotations

from pathlib import Path

import yaml

from fakedevices.farm import build_farm
from fakedevices.farmspec.loader import EXAMPLES
from fakedevices.farmspec.schema import parse_farm_spec
from fakedevices.kinds.camera.device import CAMERA_PORT
from fakedevices.kinds.camera.emulator import CameraEmulator
from fakedevices.plugin.driver import NodeDriver
from fakedevices.plugin.inventory import NodeInventory
from fakedevices.plugin.layout import PluginLayout
from tests.plugin.kit import NODE, ClaimStore


def test_each_camera_of_a_pool_with_a_bind_address_listens_on_its_own(short_tmp: Path) -> None:
    document = yaml.safe_load((EXAMPLES / "small.yaml").read_text())
    document["spec"]["networkPools"][0].update(count=3, bindAddress="127.0.0.50")
    farm = build_farm(parse_farm_spec(document))
    layout = PluginLayout(farm.driver, short_tmp / "state", short_tmp / "kubelet", short_tmp / "cdi")
    driver = NodeDriver(NodeInventory(farm, NODE), ClaimStore(), layout, own_addresses=True)
    driver.start()
    try:
        cameras = [e for e in driver.runner.emulators if isinstance(e, CameraEmulator)]
        addresses = [camera.address for camera in cameras]
    finally:
        driver.stop()
    assert addresses == [(f"127.0.0.{50 + i}", CAMERA_PORT) for i in range(3)]
