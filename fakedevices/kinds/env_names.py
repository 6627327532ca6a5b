"""Environment variable names a container's CDI edits set for each device (see docs/devices.md)."""

from __future__ import annotations

import re

PREFIX = "DRAFARM"


def device_token(device_name: str) -> str:
    """GPU_0 for gpu-0, GPU_0_1G_5GB_0 for a partition: unique per pool, safe in a variable name."""
    return re.sub(r"[^A-Z0-9]", "_", device_name.upper())


def device_var(device_name: str, field: str) -> str:
    return f"{PREFIX}_{device_token(device_name)}_{field}"
