"""FPGAs: a claim programs a bitstream (opaque config) that stays until the device is released."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from fakedevices.emulator.base import SessionEndpoint
from fakedevices.emulator.listen import Listen
from fakedevices.kinds.base import Allocation, BuildContext, ContainerEdits, DeviceAccess, DeviceKind
from fakedevices.kinds.emulator_config import config_from_identity
from fakedevices.kinds.fpga.cdi import fpga_container_edits
from fakedevices.kinds.fpga.config import FpgaConfig, parse_fpga_config
from fakedevices.kinds.fpga.device import build_fpgas
from fakedevices.kinds.fpga.emulator import Bitstream, FpgaEmulator, FpgaEmulatorConfig
from fakedevices.kinds.fpga.host import open_fpga_session
from fakedevices.kinds.fpga.options import FpgaOptions, parse_fpga_options
from fakedevices.kinds.placement import OnNode
from fakedevices.model import Card, Inventory
from fakedevices.spec.reader import Reader

STANDALONE_BITSTREAM = "bitstream"


class FpgaKind(DeviceKind[FpgaOptions, FpgaConfig | None, FpgaEmulator]):
    name = "fpga"
    placement = OnNode()
    config_kind = "FpgaConfig"

    def parse_options(self, reader: Reader) -> FpgaOptions:
        return parse_fpga_options(reader)

    def build(self, ctx: BuildContext, options: FpgaOptions) -> Inventory:
        return build_fpgas(ctx, options)

    def parse_config(self, parameters: Mapping[str, Any], path: str) -> FpgaConfig:
        return parse_fpga_config(parameters, path)

    def default_config(self) -> FpgaConfig | None:
        return None

    def emulator(self, card: Card, state_dir: Path, listen: Listen) -> FpgaEmulator:
        return config_from_identity(FpgaEmulatorConfig, card).emulator(state_dir)

    def open_session(self, emulator: FpgaEmulator, allocation: Allocation[FpgaConfig | None]) -> SessionEndpoint:
        return open_fpga_session(emulator, allocation)

    def container_edits(self, access: DeviceAccess[FpgaConfig | None]) -> ContainerEdits:
        return fpga_container_edits(access)

    def standalone_emulator(self, entry: Mapping[str, Any], state_dir: Path, listen: Listen) -> FpgaEmulator:
        fields = {key: value for key, value in entry.items() if key != STANDALONE_BITSTREAM}
        return FpgaEmulatorConfig(**fields).emulator(state_dir)

    def standalone_session(self, emulator: FpgaEmulator, session_id: str, entry: Mapping[str, Any]) -> SessionEndpoint:
        """A session, programmed with the entry's `"bitstream": {name, family, sha256}` if it has one."""
        endpoint = emulator.open_session(session_id)
        if STANDALONE_BITSTREAM in entry:
            emulator.program(session_id, Bitstream(**entry[STANDALONE_BITSTREAM]))
        return endpoint


KIND = FpgaKind()
