"""What a container gets for a camera: its network address, session token and identity in env."""

from __future__ import annotations

from fakedevices.kinds.base import ContainerEdits, DeviceAccess
from fakedevices.kinds.camera.config import CameraConfig
from fakedevices.kinds.camera.device import CameraIdentity
from fakedevices.kinds.env_names import device_var


def camera_container_edits(access: DeviceAccess) -> ContainerEdits:
    identity: CameraIdentity = access.card.identity
    config: CameraConfig = access.config
    name = access.device.name
    env = (
        f"{device_var(name, 'ADDR')}={access.endpoint}",
        f"{device_var(name, 'TOKEN')}={access.session_id}",
        f"{device_var(name, 'SERIAL')}={identity.serial}",
        f"{device_var(name, 'MODE')}={config.mode}",
        f"{device_var(name, 'REQUEST')}={access.request}",
    )
    return ContainerEdits(env=env)
