"""What the plugin does with an FPGA's emulator: build it, open a session and program the bitstream."""

from __future__ import annotations

from fakedevices.emulator.base import SessionEndpoint
from fakedevices.kinds.base import Allocation
from fakedevices.kinds.fpga.config import FpgaConfig, check_compatible
from fakedevices.kinds.fpga.device import FpgaIdentity
from fakedevices.kinds.fpga.emulator import Bitstream, FpgaEmulator, FpgaEmulatorConfig
from fakedevices.model import Card

PROGRAM_TIMEOUT_MARGIN = 30.0


class MissingBitstream(ValueError):
    pass


def fpga_emulator_config(card: Card) -> FpgaEmulatorConfig:
    identity: FpgaIdentity = card.identity
    return FpgaEmulatorConfig(
        name=card.name,
        serial=identity.serial,
        family=identity.family,
        part_number=identity.part_number,
        shell_version=identity.shell_version,
        regions=identity.regions,
        program_seconds=identity.program_seconds,
    )


def open_fpga_session(emulator: FpgaEmulator, allocation: Allocation) -> SessionEndpoint:
    config: FpgaConfig | None = allocation.config
    identity: FpgaIdentity = allocation.card.identity
    if config is None:
        raise MissingBitstream(
            f"request {allocation.request!r} got FPGA {allocation.device.name} but no FpgaConfig: add "
            "config[].opaque {driver, parameters: {apiVersion: drafarm.dev/v1alpha1, kind: FpgaConfig, "
            "bitstream: {name, family, sha256}}} for this request to the claim or its DeviceClass"
        )
    check_compatible(config, identity.family, allocation.device.name)
    endpoint = emulator.open_session(allocation.session_id)
    emulator.program(
        allocation.session_id,
        Bitstream(config.bitstream_name, config.family, config.sha256),
        timeout=identity.program_seconds + PROGRAM_TIMEOUT_MARGIN,
    )
    return endpoint
