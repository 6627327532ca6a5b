"""What a container gets for a prepared FPGA: its session socket and device node, identity and bitstream env."""

from __future__ import annotations

from fakedevices.kinds.base import ContainerEdits, DeviceAccess
from fakedevices.kinds.fpga.config import FpgaConfig
from fakedevices.kinds.fpga.device import FpgaIdentity
from fakedevices.kinds.fpga.host import required_config
from fakedevices.kinds.session_edits import session_edits


def fpga_container_edits(access: DeviceAccess[FpgaConfig | None]) -> ContainerEdits:
    identity: FpgaIdentity = access.card.identity
    config = required_config(access.config, access.request, access.device.name)
    facts = {"SERIAL": identity.serial, "FAMILY": identity.family, "BITSTREAM": config.bitstream_name}
    return session_edits("fpga", access, facts)
