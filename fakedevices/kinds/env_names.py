"""Environment variable names a container's CDI edits set for each device.

The in-container client reads DRAFARM_<KIND>_<ID>_<KEY> (fakedevices/client/env.py); the CDI edits add
more facts about the device under the same prefix, e.g. DRAFARM_GPU_0_UUID.
"""

from __future__ import annotations

import functools

from fakedevices.client import env as client_env


@functools.lru_cache(maxsize=4096)
def device_id(kind: str, device_name: str) -> str:
    """The <ID> of a device: its name without the kind prefix ("gpu-0-1g-5gb-0" -> "0_1G_5GB_0")."""
    prefix = f"{kind}-"
    name = device_name[len(prefix) :] if device_name.startswith(prefix) else device_name
    return client_env.normalize_id(name)


@functools.lru_cache(maxsize=4096)
def device_var(kind: str, device_name: str, key: str) -> str:
    return f"DRAFARM_{kind.upper()}_{device_id(kind, device_name)}_{key}"
