"""What a container gets for a prepared GPU: its session socket and device node, identity and sharing env."""

from __future__ import annotations

from fakedevices.kinds.base import ContainerEdits, DeviceAccess
from fakedevices.kinds.gpu.config import GpuConfig
from fakedevices.kinds.gpu.device import GpuIdentity
from fakedevices.kinds.session_edits import session_edits


def gpu_container_edits(access: DeviceAccess[GpuConfig]) -> ContainerEdits:
    identity: GpuIdentity = access.card.identity
    facts = {
        "UUID": str(access.device.attributes["uuid"].value),
        "MODEL": identity.model,
        "MEMORY": access.device.capacity["memory"].value,
        "SHARING": access.config.describe(),
    }
    return session_edits("gpu", access, facts)
