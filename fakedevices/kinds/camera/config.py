"""The opaque configuration of a camera claim: how the pod uses the camera.

apiVersion: drafarm.dev/v1alpha1
kind: CameraConfig
mode: view            # view (default, shared) | control (exclusive pan/tilt/zoom control)
bandwidthMbps: 20     # optional; otherwise the claim's consumed bandwidth capacity
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from fakedevices.kinds.opaque import parse_opaque
from fakedevices.spec.reader import Reader

MODES = ("view", "control")


@dataclass(frozen=True)
class CameraConfig:
    mode: str = "view"
    bandwidth_mbps: int | None = None


def parse_camera_config(parameters: Mapping[str, Any], path: str) -> CameraConfig:
    return parse_opaque(parameters, path, "CameraConfig", _read)


def _read(r: Reader) -> CameraConfig:
    mode = r.string("mode", "view", choices=MODES)
    bandwidth = r.integer("bandwidthMbps", 0, minimum=1, maximum=100_000) if r.has("bandwidthMbps") else None
    r.raw("bandwidthMbps")
    return CameraConfig(mode, bandwidth)
