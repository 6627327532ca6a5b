"""Opaque configurations: valid ones parse into typed configs, bad ones name the field and the fix."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from fakedevices.kinds import registry
from fakedevices.kinds.camera.config import CameraConfig
from fakedevices.kinds.fpga.config import FpgaConfig, IncompatibleBitstream, check_compatible
from fakedevices.kinds.gpu.config import GpuConfig
from fakedevices.spec.problems import SpecError

API = "drafarm.dev/v1alpha1"
SHA = "a" * 64
PATH = "claim default/c1 config[0].opaque.parameters"


def _parse(kind: str, parameters: dict[str, Any]) -> Any:
    return registry.get(kind).parse_config(parameters, PATH)


def _error(kind: str, parameters: dict[str, Any]) -> str:
    snapshot = copy.deepcopy(parameters)
    with pytest.raises(SpecError) as err:
        _parse(kind, parameters)
    assert parameters == snapshot
    return str(err.value)


def test_gpu_sharing_strategies() -> None:
    assert _parse("gpu", {"apiVersion": API, "kind": "GpuConfig"}) == GpuConfig()
    ts = _parse("gpu", {"apiVersion": API, "kind": "GpuConfig", "sharing": {"strategy": "TimeSlicing"}})
    assert ts.describe() == "TimeSlicing/Default"
    sp = _parse(
        "gpu",
        {
            "apiVersion": API,
            "kind": "GpuConfig",
            "sharing": {"strategy": "SpacePartitioning", "spacePartitioning": {"partitionCount": 4}},
        },
    )
    assert sp == GpuConfig("SpacePartitioning", None, 4)


@pytest.mark.parametrize(
    ("parameters", "expected"),
    [
        ({"apiVersion": "v1", "kind": "GpuConfig"}, f'{PATH}.apiVersion: got "v1"; allowed: {API}'),
        ({"apiVersion": API, "kind": "FpgaConfig"}, f'{PATH}.kind: got "FpgaConfig"; allowed: GpuConfig'),
        (
            {"apiVersion": API, "kind": "GpuConfig", "sharing": {"strategy": "Magic"}},
            'sharing.strategy: got "Magic"',
        ),
        (
            {"apiVersion": API, "kind": "GpuConfig", "sharing": {"strategy": "SpacePartitioning"}},
            "sharing.spacePartitioning.partitionCount: got null; required",
        ),
        (
            {
                "apiVersion": API,
                "kind": "GpuConfig",
                "sharing": {"strategy": "Exclusive", "timeSlicing": {"interval": "Short"}},
            },
            "only allowed with strategy: TimeSlicing",
        ),
        (
            {
                "apiVersion": API,
                "kind": "GpuConfig",
                "sharing": {"strategy": "TimeSlicing", "timeSlicing": {"interval": "Forever"}},
            },
            'timeSlicing.interval: got "Forever"',
        ),
        (
            {"apiVersion": API, "kind": "GpuConfig", "shairing": {}},
            f"{PATH}.shairing: got {{}}; unknown field",
        ),
        ({"apiVersion": API, "kind": "GpuConfig", "pad": "x" * 11000}, "at most 10 KiB"),
    ],
)
def test_bad_gpu_config(parameters: dict[str, Any], expected: str) -> None:
    assert expected in _error("gpu", parameters)


def test_fpga_bitstream() -> None:
    good = {
        "apiVersion": API,
        "kind": "FpgaConfig",
        "bitstream": {"name": "crc32", "family": "agilex7", "sha256": SHA},
    }
    assert _parse("fpga", good) == FpgaConfig("crc32", "agilex7", SHA)
    assert "bitstream: got null; required" in _error("fpga", {"apiVersion": API, "kind": "FpgaConfig"})
    bad_sha = copy.deepcopy(good)
    bad_sha["bitstream"]["sha256"] = "xyz"  # type: ignore[index]
    assert 'bitstream.sha256: got "xyz"; 64 lowercase hex digits' in _error("fpga", bad_sha)


def test_bitstream_for_another_family_is_a_clear_error() -> None:
    config = FpgaConfig("crc32", "versal", SHA)
    check_compatible(config, "versal", "fpga-0")
    with pytest.raises(IncompatibleBitstream) as err:
        check_compatible(config, "agilex7", "fpga-0")
    assert "targets family 'versal' but device 'fpga-0' is 'agilex7'" in str(err.value)


def test_camera_modes() -> None:
    assert _parse("camera", {"apiVersion": API, "kind": "CameraConfig"}) == CameraConfig()
    control = _parse("camera", {"apiVersion": API, "kind": "CameraConfig", "mode": "control", "bandwidthMbps": 20})
    assert control == CameraConfig("control", 20)
    assert 'mode: got "steal"' in _error("camera", {"apiVersion": API, "kind": "CameraConfig", "mode": "steal"})


def test_config_kind_lookup() -> None:
    assert registry.for_config("GpuConfig") is registry.get("gpu")
    assert registry.for_config("Nope") is None
