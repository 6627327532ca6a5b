"""Every pinned minor has its DRA gate list; gates locked on at GA are left out and count as on."""

from __future__ import annotations

import pytest

from clusters.local import featuregates
from clusters.toolchain import versions
from harness.gates import gate_on


@pytest.mark.parametrize("pins", versions.SUPPORTED, ids=[p.kubernetes for p in versions.SUPPORTED])
def test_every_pinned_minor_has_a_gate_list(pins: versions.ToolPins) -> None:
    gates = featuregates.dra_gates(pins.minor)
    assert gates and all(gates.values())
    assert pins.minor <= featuregates.LAST_MINOR_ON_CGROUP_V1


def test_1_37_leaves_out_the_gates_locked_on_and_still_counts_them_on() -> None:
    gates = featuregates.dra_gates(37)
    for locked in ("DRAPrioritizedList", "DRAResourceClaimDeviceStatus", "DRAExtendedResource", "DRAAdminAccess"):
        assert locked not in gates
        assert gate_on(gates, locked, 37) is True
    assert {"DRADeviceTaints", "DRADeviceTaintRules", "DRAPartitionableDevices"} <= set(gates)
    assert gate_on(gates, "DRAExtendedResource", 36) is None


def test_device_taint_rules_has_its_own_gate_from_1_35() -> None:
    assert "DRADeviceTaintRules" not in featuregates.dra_gates(34)
    assert "DRADeviceTaintRules" in featuregates.dra_gates(35)
