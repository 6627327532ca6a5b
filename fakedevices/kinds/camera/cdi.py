"""What a container gets for a camera: its network address, session token and identity in env."""

from __future__ import annotations

from fakedevices.emulator.base import SessionEndpoint
from fakedevices.kinds.base import ContainerEdits, DeviceAccess
from fakedevices.kinds.camera.config import CameraConfig
from fakedevices.kinds.camera.device import CameraIdentity
from fakedevices.kinds.env_names import device_id, device_var


def camera_container_edits(access: DeviceAccess) -> ContainerEdits:
    identity: CameraIdentity = access.card.identity
    config: CameraConfig = access.config or CameraConfig()
    endpoint: SessionEndpoint = access.endpoint
    name = access.device.name
    env = endpoint.container_env(device_id=device_id("camera", name))
    env.update(
        {
            device_var("camera", name, "SERIAL"): identity.serial,
            device_var("camera", name, "MODE"): config.mode,
            device_var("camera", name, "REQUEST"): access.request,
        }
    )
    return ContainerEdits(env=tuple(f"{k}={v}" for k, v in sorted(env.items())))
