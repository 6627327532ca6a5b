"""What a container gets for a prepared GPU: identity and sharing env, a device node, the session socket."""

from __future__ import annotations

from fakedevices.kinds.base import ContainerEdits, DeviceAccess, DeviceNode, Mount
from fakedevices.kinds.env_names import device_var
from fakedevices.kinds.gpu.config import GpuConfig
from fakedevices.kinds.gpu.device import GpuIdentity

CONTAINER_SOCKET_DIR = "/var/run/drafarm"


def gpu_container_edits(access: DeviceAccess) -> ContainerEdits:
    identity: GpuIdentity = access.card.identity
    config: GpuConfig = access.config
    name = access.device.name
    socket = f"{CONTAINER_SOCKET_DIR}/{name}.sock"
    memory = access.device.capacity["memory"].value
    env = (
        f"{device_var(name, 'SOCKET')}={socket}",
        f"{device_var(name, 'UUID')}={access.device.attributes['uuid'].value}",
        f"{device_var(name, 'MODEL')}={identity.model}",
        f"{device_var(name, 'MEMORY')}={memory}",
        f"{device_var(name, 'SHARING')}={config.describe()}",
        f"{device_var(name, 'REQUEST')}={access.request}",
    )
    return ContainerEdits(
        env=env,
        device_nodes=(DeviceNode(f"/dev/drafarm/{name}", "/dev/null"),),
        mounts=(Mount(access.endpoint, socket),),
    )
