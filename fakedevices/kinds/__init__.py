"""The registry of device kinds. Adding a kind: write its package and list it here."""

from __future__ import annotations

from fakedevices.kinds import camera, fpga, gpu
from fakedevices.kinds.base import DeviceKind

KINDS: dict[str, DeviceKind] = {k.name: k for k in (gpu.KIND, fpga.KIND, camera.KIND)}
NODE_KINDS = tuple(name for name, kind in KINDS.items() if kind.placement == "node")
NETWORK_KINDS = tuple(name for name, kind in KINDS.items() if kind.placement == "network")


def kind_for_config(config_kind: str) -> DeviceKind | None:
    for kind in KINDS.values():
        if kind.config_kind == config_kind:
            return kind
    return None
