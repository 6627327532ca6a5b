"""FPGAs: a claim programs a bitstream (opaque config) that stays until the device is released."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fakedevices.kinds.base import Allocation, BuildContext, ContainerEdits, DeviceAccess, Placement
from fakedevices.kinds.fpga.cdi import fpga_container_edits
from fakedevices.kinds.fpga.config import FpgaConfig, parse_fpga_config
from fakedevices.kinds.fpga.device import build_fpgas
from fakedevices.kinds.fpga.host import fpga_emulator_config, open_fpga_session
from fakedevices.kinds.fpga.options import FpgaOptions, parse_fpga_options
from fakedevices.model import Card, Inventory
from fakedevices.spec.reader import Reader


class FpgaKind:
    name = "fpga"
    placement: Placement = "node"
    config_kind = "FpgaConfig"

    def parse_options(self, reader: Reader) -> FpgaOptions:
        return parse_fpga_options(reader)

    def count(self, options: FpgaOptions) -> int:
        return options.count

    def build(self, ctx: BuildContext, options: FpgaOptions) -> Inventory:
        return build_fpgas(ctx, options)

    def parse_config(self, parameters: Mapping[str, Any], path: str) -> FpgaConfig:
        return parse_fpga_config(parameters, path)

    def default_config(self) -> FpgaConfig | None:
        return None

    def container_edits(self, access: DeviceAccess) -> ContainerEdits:
        return fpga_container_edits(access)

    def emulator_config(self, card: Card) -> Any:
        return fpga_emulator_config(card)

    def open_session(self, emulator: Any, allocation: Allocation) -> Any:
        return open_fpga_session(emulator, allocation)


KIND = FpgaKind()
