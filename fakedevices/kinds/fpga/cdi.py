"""What a container gets for a prepared FPGA: identity and bitstream env, a device node, its socket."""

from __future__ import annotations

from fakedevices.emulator.base import SessionEndpoint
from fakedevices.kinds.base import ContainerEdits, DeviceAccess, DeviceNode, Mount
from fakedevices.kinds.env_names import device_id, device_var
from fakedevices.kinds.fpga.config import FpgaConfig
from fakedevices.kinds.fpga.device import FpgaIdentity

CONTAINER_SOCKET_DIR = "/var/run/drafarm"


def fpga_container_edits(access: DeviceAccess) -> ContainerEdits:
    identity: FpgaIdentity = access.card.identity
    config: FpgaConfig = access.config
    endpoint: SessionEndpoint = access.endpoint
    name = access.device.name
    assert endpoint.socket_path is not None
    container_dir = f"{CONTAINER_SOCKET_DIR}/{name}"
    socket = f"{container_dir}/{endpoint.socket_path.name}"
    env = endpoint.container_env(container_path=socket, device_id=device_id("fpga", name))
    env.update(
        {
            device_var("fpga", name, "SERIAL"): identity.serial,
            device_var("fpga", name, "FAMILY"): identity.family,
            device_var("fpga", name, "BITSTREAM"): config.bitstream_name,
            device_var("fpga", name, "REQUEST"): access.request,
        }
    )
    return ContainerEdits(
        env=tuple(f"{k}={v}" for k, v in sorted(env.items())),
        device_nodes=(DeviceNode(f"/dev/drafarm/{name}", "/dev/null"),),
        mounts=(Mount(str(endpoint.socket_path.parent), container_dir),),
    )
