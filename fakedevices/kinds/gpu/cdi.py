"""What a container gets for a prepared GPU: identity and sharing env, a device node, the session socket."""

from __future__ import annotations

from fakedevices.emulator.base import SessionEndpoint
from fakedevices.kinds.base import ContainerEdits, DeviceAccess, DeviceNode, Mount
from fakedevices.kinds.env_names import device_id, device_var
from fakedevices.kinds.gpu.config import GpuConfig
from fakedevices.kinds.gpu.device import GpuIdentity

CONTAINER_SOCKET_DIR = "/var/run/drafarm"


def gpu_container_edits(access: DeviceAccess) -> ContainerEdits:
    identity: GpuIdentity = access.card.identity
    config: GpuConfig = access.config or GpuConfig()
    endpoint: SessionEndpoint = access.endpoint
    name = access.device.name
    assert endpoint.socket_path is not None
    # The session's directory, not its socket file, is mounted: a restarted emulator re-creates the
    # socket in place and running containers still reach it.
    container_dir = f"{CONTAINER_SOCKET_DIR}/{name}"
    socket = f"{container_dir}/{endpoint.socket_path.name}"
    env = endpoint.container_env(container_path=socket, device_id=device_id("gpu", name))
    env.update(
        {
            device_var("gpu", name, "UUID"): str(access.device.attributes["uuid"].value),
            device_var("gpu", name, "MODEL"): identity.model,
            device_var("gpu", name, "MEMORY"): access.device.capacity["memory"].value,
            device_var("gpu", name, "SHARING"): config.describe(),
            device_var("gpu", name, "REQUEST"): access.request,
        }
    )
    return ContainerEdits(
        env=tuple(f"{k}={v}" for k, v in sorted(env.items())),
        device_nodes=(DeviceNode(f"/dev/drafarm/{name}", "/dev/null"),),
        mounts=(Mount(str(endpoint.socket_path.parent), container_dir),),
    )
