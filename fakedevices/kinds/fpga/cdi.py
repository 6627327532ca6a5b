"""What a container gets for a prepared FPGA: identity and bitstream env, a device node, its socket."""

from __future__ import annotations

from fakedevices.kinds.base import ContainerEdits, DeviceAccess, DeviceNode, Mount
from fakedevices.kinds.env_names import device_var
from fakedevices.kinds.fpga.config import FpgaConfig
from fakedevices.kinds.fpga.device import FpgaIdentity

CONTAINER_SOCKET_DIR = "/var/run/drafarm"


def fpga_container_edits(access: DeviceAccess) -> ContainerEdits:
    identity: FpgaIdentity = access.card.identity
    config: FpgaConfig = access.config
    name = access.device.name
    socket = f"{CONTAINER_SOCKET_DIR}/{name}.sock"
    env = (
        f"{device_var(name, 'SOCKET')}={socket}",
        f"{device_var(name, 'SERIAL')}={identity.serial}",
        f"{device_var(name, 'FAMILY')}={identity.family}",
        f"{device_var(name, 'BITSTREAM')}={config.bitstream_name}",
        f"{device_var(name, 'REQUEST')}={access.request}",
    )
    return ContainerEdits(
        env=env,
        device_nodes=(DeviceNode(f"/dev/drafarm/{name}", "/dev/null"),),
        mounts=(Mount(access.endpoint, socket),),
    )
