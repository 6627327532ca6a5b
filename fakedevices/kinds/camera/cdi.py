"""What a container gets for a camera: its network address, session token and identity in env."""

from __future__ import annotations

from fakedevices.kinds.base import ContainerEdits, DeviceAccess
from fakedevices.kinds.camera.config import CameraConfig
from fakedevices.kinds.camera.device import CameraIdentity
from fakedevices.kinds.session_edits import session_edits


def camera_container_edits(access: DeviceAccess[CameraConfig]) -> ContainerEdits:
    identity: CameraIdentity = access.card.identity
    return session_edits("camera", access, {"SERIAL": identity.serial, "MODE": access.config.mode})
