"""What the plugin does with an FPGA's emulator: open a session and program the claim's bitstream."""

from __future__ import annotations

from fakedevices.emulator.base import SessionEndpoint
from fakedevices.kinds.base import Allocation
from fakedevices.kinds.fpga.config import FpgaConfig, check_compatible
from fakedevices.kinds.fpga.device import FpgaIdentity
from fakedevices.kinds.fpga.emulator import Bitstream, FpgaEmulator

PROGRAM_TIMEOUT_MARGIN = 30.0


class MissingBitstream(ValueError):
    pass


def required_config(config: FpgaConfig | None, request: str, device: str) -> FpgaConfig:
    """An FPGA is only handed out programmed: its request must come with an FpgaConfig."""
    if config is None:
        raise MissingBitstream(
            f"request {request!r} got FPGA {device} but no FpgaConfig: add "
            "config[].opaque {driver, parameters: {apiVersion: drafarm.dev/v1alpha1, kind: FpgaConfig, "
            "bitstream: {name, family, sha256}}} for this request to the claim or its DeviceClass"
        )
    return config


def open_fpga_session(emulator: FpgaEmulator, allocation: Allocation[FpgaConfig | None]) -> SessionEndpoint:
    config = required_config(allocation.config, allocation.request, allocation.device.name)
    identity: FpgaIdentity = allocation.card.identity
    check_compatible(config, identity.family, allocation.device.name)
    endpoint = emulator.open_session(allocation.session_id)
    emulator.program(
        allocation.session_id,
        Bitstream(config.bitstream_name, config.family, config.sha256),
        timeout=identity.program_seconds + PROGRAM_TIMEOUT_MARGIN,
    )
    return endpoint
