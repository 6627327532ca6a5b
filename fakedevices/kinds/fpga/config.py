"""The opaque configuration an FPGA claim must give: the bitstream to program.

apiVersion: drafarm.dev/v1alpha1
kind: FpgaConfig
bitstream:
  name: vector-add       # picks the function the programmed device computes
  family: agilex7        # must match the allocated device's family
  sha256: <64 hex digits>
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from fakedevices.kinds.fpga.options import FAMILIES
from fakedevices.kinds.opaque import parse_opaque
from fakedevices.spec.reader import DNS_LABEL, Reader

SHA256 = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class FpgaConfig:
    bitstream_name: str
    family: str
    sha256: str


class IncompatibleBitstream(ValueError):
    """The bitstream was built for another FPGA family than the allocated device's."""


def parse_fpga_config(parameters: Mapping[str, Any], path: str) -> FpgaConfig:
    return parse_opaque(parameters, path, "FpgaConfig", _read)


def _read(r: Reader) -> FpgaConfig:
    bitstream = r.child("bitstream")
    if not r.has("bitstream"):
        r.problem(r.at("bitstream"), None, "required: {name, family, sha256} of the bitstream to program")
    config = FpgaConfig(
        bitstream_name=bitstream.string("name", pattern=DNS_LABEL, pattern_help="a DNS label such as vector-add"),
        family=bitstream.string("family", choices=tuple(FAMILIES)),
        sha256=bitstream.string(
            "sha256", pattern=SHA256, pattern_help="64 lowercase hex digits (sha256sum of the bitstream)"
        ),
    )
    bitstream.finish()
    return config


def check_compatible(config: FpgaConfig, device_family: str, device: str) -> None:
    if config.family != device_family:
        raise IncompatibleBitstream(
            f"bitstream {config.bitstream_name!r} targets family {config.family!r} but device {device!r} is "
            f"{device_family!r}: supply a bitstream built for {device_family!r}, or add a selector "
            f'device.attributes["drafarm.dev"].family == "{config.family}" to the request'
        )
