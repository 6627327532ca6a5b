"""DRA feature gates per Kubernetes minor, switched on identically in every component.

Only gates that exist in that minor are listed (a component refuses an unknown gate), and GA gates
that are locked on are left out. Alpha gates need the alpha API versions too: see `runtime_config`.
"""

from __future__ import annotations

_ALPHA_UNTIL_136 = (
    "DRAPartitionableDevices",
    "DRADeviceTaints",
    "DRAConsumableCapacity",
    "DRAExtendedResource",
    "DRADeviceBindingConditions",
    "ResourceHealthStatus",
)
_BETA_34_35 = ("DRAPrioritizedList", "DRAAdminAccess", "DRAResourceClaimDeviceStatus")

_GATES: dict[int, tuple[str, ...]] = {
    34: (*_BETA_34_35, *_ALPHA_UNTIL_136),
    35: (*_BETA_34_35, *_ALPHA_UNTIL_136, "DRADeviceTaintRules"),
    36: ("DRAResourceClaimDeviceStatus", *_ALPHA_UNTIL_136, "DRADeviceTaintRules"),
    # 1.37: DRAPrioritizedList, DRAResourceClaimDeviceStatus and DRAExtendedResource GA and locked on.
    37: (
        "DRAPartitionableDevices",
        "DRADeviceTaints",
        "DRAConsumableCapacity",
        "DRADeviceBindingConditions",
        "ResourceHealthStatus",
        "DRADeviceTaintRules",
    ),
}

# The newest minor known to start on cgroup v1 (with failCgroupV1: false).
LAST_MINOR_ON_CGROUP_V1 = 37


class UnsupportedMinorError(ValueError):
    pass


def dra_gates(minor: int) -> dict[str, bool]:
    if minor not in _GATES:
        known = ", ".join(f"1.{m}" for m in sorted(_GATES))
        raise UnsupportedMinorError(
            f"no DRA feature-gate list for Kubernetes 1.{minor} (known: {known}); "
            "add one to clusters/local/featuregates.py"
        )
    return dict.fromkeys(_GATES[minor], True)


def gates_flag(gates: dict[str, bool]) -> str:
    return ",".join(f"{name}={'true' if on else 'false'}" for name, on in sorted(gates.items()))


def runtime_config() -> str:
    """All API versions on, so alpha DRA types (e.g. DeviceTaintRule) are served when their gate is."""
    return "api/all=true"
