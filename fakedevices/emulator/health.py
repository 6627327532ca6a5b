"""Device health as the emulators, the kubelet plugin and DRA see it."""

from __future__ import annotations

import enum

from fakedevices.emulator.choice import parse_choice


class Health(enum.Enum):
    """Health of one emulated device (mirrors DRA's HealthStatus: UNKNOWN=0, HEALTHY=1, UNHEALTHY=2)."""

    UNKNOWN = "unknown"
    HEALTHY = "healthy"
    UNHEALTHY = "unhealthy"

    @classmethod
    def parse(cls, value: Health | str) -> Health:
        """Accept a ``Health`` or its name in any case (``"Healthy"``, ``"unhealthy"``)."""
        return parse_choice(cls, value, "health")

    @property
    def dra_value(self) -> int:
        """The number DRA's ``HealthStatus`` enum uses for this state."""
        return {Health.UNKNOWN: 0, Health.HEALTHY: 1, Health.UNHEALTHY: 2}[self]
