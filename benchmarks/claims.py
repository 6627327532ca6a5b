"""Allocated claims without an API server: the claim's name says which device it got and its UID.

The benchmark measures the plugin, not the API server, so the claim reader the plugin is built with
answers from the name alone (`bench-<device>-<uid>`), in any process, with no shared state: the
kubelet side makes up names, the plugin side turns them back into the JSON `kubectl get -o json` shows.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

PREFIX = "bench-"
NAMESPACE = "bench"
SHARED_NAMESPACE = "bench-shared"  # claims here share their GPU (TimeSlicing in their opaque config)
UID_LENGTH = 36
API = "drafarm.dev/v1alpha1"


@dataclass(frozen=True)
class ClaimRef:
    namespace: str
    name: str
    uid: str


def new_claim(device: str, *, shared: bool = False) -> ClaimRef:
    """A new claim UID allocated `device`; `shared` claims time-slice the GPU with other claims."""
    uid = str(uuid.uuid4())
    return ClaimRef(SHARED_NAMESPACE if shared else NAMESPACE, f"{PREFIX}{device}-{uid}", uid)


def parse_name(name: str) -> tuple[str, str] | None:
    """(device, uid) from a benchmark claim name, or None when the name is not one."""
    if not name.startswith(PREFIX) or len(name) < len(PREFIX) + UID_LENGTH + 2:
        return None
    device, uid = name[len(PREFIX) : -UID_LENGTH - 1], name[-UID_LENGTH:]
    if name[-UID_LENGTH - 1] != "-" or not device:
        return None
    return device, uid


class SyntheticClaims:
    """A `ClaimReader` for the plugin: every well-formed name is an allocated one-device claim.

    Claims in SHARED_NAMESPACE carry an opaque GpuConfig with TimeSlicing, so several can hold one GPU;
    the others have no config, so the device's default, exclusive use, applies.
    """

    def __init__(self, driver: str, pool: str) -> None:
        self.driver = driver
        self.pool = pool

    def get(self, namespace: str, name: str) -> Mapping[str, Any] | None:
        parsed = parse_name(name)
        if parsed is None:
            return None
        device, uid = parsed
        config: list[dict[str, Any]] = []
        if namespace == SHARED_NAMESPACE:
            config.append(
                {
                    "source": "FromClaim",
                    "requests": ["gpu"],
                    "opaque": {
                        "driver": self.driver,
                        "parameters": {"apiVersion": API, "kind": "GpuConfig", "sharing": {"strategy": "TimeSlicing"}},
                    },
                }
            )
        return {
            "apiVersion": "resource.k8s.io/v1",
            "kind": "ResourceClaim",
            "metadata": {"name": name, "namespace": namespace, "uid": uid},
            "spec": {"devices": {"requests": [{"name": "gpu"}]}},
            "status": {
                "allocation": {
                    "devices": {
                        "results": [{"driver": self.driver, "request": "gpu", "pool": self.pool, "device": device}],
                        "config": config,
                    }
                }
            },
        }
