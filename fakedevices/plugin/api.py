"""What the gRPC services ask of the driver, independent of the API version on the wire."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from fakedevices.plugin.checkpoint import PreparedDevice


@dataclass(frozen=True)
class ClaimRef:
    namespace: str
    uid: str
    name: str


@dataclass(frozen=True)
class PrepareOutcome:
    devices: tuple[PreparedDevice, ...] = ()
    error: str = ""


@dataclass(frozen=True)
class DeviceHealthReport:
    pool: str
    device: str
    health: int  # v1alpha1.HealthStatus: 0 unknown, 1 healthy, 2 unhealthy
    updated_at: int
    timeout_seconds: int = 0


class DriverCore(Protocol):
    def prepare(self, claims: Sequence[ClaimRef]) -> dict[str, PrepareOutcome]: ...

    def unprepare(self, claims: Sequence[ClaimRef]) -> dict[str, str]: ...

    def health_snapshot(self) -> tuple[int, list[DeviceHealthReport]]:
        """(generation, complete list); the generation changes whenever any device's health does."""
        ...

    def wait_health_change(self, generation: int, timeout: float) -> int: ...
