"""ResourceSlices follow the pool rules and the API's limits, for 1.34 and for 1.35+ layouts."""

from __future__ import annotations

from typing import Any

import pytest

from fakedevices.dra_rules import device_problems
from fakedevices.farm import build_farm
from fakedevices.farmspec.loader import load_farm_spec
from fakedevices.model import Farm
from fakedevices.plugin.slice_builder import PoolPlacement, build_pool_slices, dropped_fields


@pytest.fixture(scope="module")
def mixed() -> Farm:
    return build_farm(load_farm_spec("mixed"))


def _node_slices(farm: Farm, node: str, separate: bool, generation: int = 3) -> list[dict[str, Any]]:
    inventory = farm.node(node).inventory
    return build_pool_slices(
        farm.driver, node, inventory, PoolPlacement(node_name=node), generation, counters_separate=separate
    )


@pytest.mark.parametrize("separate", [False, True])
def test_pool_rules_and_limits(mixed: Farm, separate: bool) -> None:
    slices = _node_slices(mixed, "gpu-large-0", separate)
    assert len(slices) > 1
    assert {s["spec"]["pool"]["generation"] for s in slices} == {3}
    assert {s["spec"]["pool"]["resourceSliceCount"] for s in slices} == {len(slices)}
    assert len({s["metadata"]["name"] for s in slices}) == len(slices)
    names = [d["name"] for s in slices for d in s["spec"].get("devices", [])]
    assert sorted(names) == sorted(d.name for d in mixed.node("gpu-large-0").devices)
    for s in slices:
        devices = s["spec"].get("devices", [])
        counted = any("consumesCounters" in d for d in devices)
        assert len(devices) <= (64 if counted else 128)
        assert len(s["spec"].get("sharedCounters", [])) <= 8
        assert s["spec"]["nodeName"] == "gpu-large-0"
        assert all(not device_problems(d) for d in devices)


def test_counters_travel_with_their_devices_on_1_34(mixed: Farm) -> None:
    for s in _node_slices(mixed, "gpu-large-0", separate=False):
        sets = {c["name"] for c in s["spec"].get("sharedCounters", [])}
        used = {c["counterSet"] for d in s["spec"].get("devices", []) for c in d.get("consumesCounters", [])}
        assert used <= sets


def test_counters_in_their_own_slices_from_1_35(mixed: Farm) -> None:
    for s in _node_slices(mixed, "gpu-large-0", separate=True):
        assert not (s["spec"].get("sharedCounters") and s["spec"].get("devices"))
    sets = [c for s in _node_slices(mixed, "gpu-large-0", True) for c in s["spec"].get("sharedCounters", [])]
    assert len(sets) == 8


def test_network_pool_is_selected_by_node_names(mixed: Farm) -> None:
    pool = mixed.pools[0]
    [only] = build_pool_slices(
        mixed.driver, pool.name, pool.inventory, PoolPlacement(reachable_nodes=pool.nodes), 1, counters_separate=True
    )
    terms = only["spec"]["nodeSelector"]["nodeSelectorTerms"]
    # the API server takes exactly one term per slice, and one value per node field (metadata.name)
    assert len(pool.nodes) > 1
    assert terms == [
        {"matchExpressions": [{"key": "kubernetes.io/hostname", "operator": "In", "values": sorted(pool.nodes)}]}
    ]
    assert "nodeName" not in only["spec"]
    assert all(d["allowMultipleAllocations"] for d in only["spec"]["devices"])


def test_content_hash_ignores_generation_but_not_devices(mixed: Farm) -> None:
    a = _node_slices(mixed, "fpga-0", True, generation=1)
    b = _node_slices(mixed, "fpga-0", True, generation=2)
    c = _node_slices(mixed, "fpga-1", True, generation=1)
    key = "drafarm.dev/content-hash"
    assert a[0]["metadata"]["annotations"][key] == b[0]["metadata"]["annotations"][key]
    assert a[0]["metadata"]["annotations"][key] != c[0]["metadata"]["annotations"][key]


def test_dropped_fields_name_the_gate(mixed: Farm) -> None:
    [sent] = [s for s in _node_slices(mixed, "gpu-small-0", True)]
    stored = {
        "spec": {
            **sent["spec"],
            "devices": [
                {k: v for k, v in d.items() if k != "allowMultipleAllocations"}
                | {"capacity": {n: {"value": c["value"]} for n, c in d["capacity"].items()}}
                for d in sent["spec"]["devices"]
            ],
        }
    }
    assert dropped_fields(sent, stored) == {
        "allowMultipleAllocations": "DRAConsumableCapacity",
        "requestPolicy": "DRAConsumableCapacity",
    }
    assert dropped_fields(sent, sent) == {}
