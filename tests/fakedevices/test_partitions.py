"""GPU partitions are carved from shared counters and can never oversubscribe them."""

from __future__ import annotations

import itertools
from fractions import Fraction

import pytest

from fakedevices.farm import build_farm
from fakedevices.farmspec.loader import load_farm_spec
from fakedevices.farmspec.schema import parse_farm_spec
from fakedevices.model import Device, Node
from fakedevices.quantity import parse_quantity
from fakedevices.spec.problems import SpecError


def _consumption(device: Device, counter_set: str) -> dict[str, Fraction]:
    out: dict[str, Fraction] = {}
    for c in device.consumes_counters:
        if c.counter_set == counter_set:
            out = {k: parse_quantity(v) for k, v in c.counters.items()}
    return out


@pytest.fixture(scope="module")
def node() -> Node:
    return build_farm(load_farm_spec("small")).nodes[0]


def test_each_partitioned_gpu_has_its_counter_set(node: Node) -> None:
    names = {c.name for c in node.inventory.counter_sets}
    assert names == {"gpu-0-counters", "gpu-1-counters", "gpu-2-counters"}
    gpu0 = next(c for c in node.inventory.counter_sets if c.name == "gpu-0-counters")
    assert dict(gpu0.counters) == {"memory": "40Gi", "compute": "7"}


def test_no_device_consumes_more_than_its_counters(node: Node) -> None:
    for counter_set in node.inventory.counter_sets:
        limits = {k: parse_quantity(v) for k, v in counter_set.counters.items()}
        for device in node.devices:
            for key, amount in _consumption(device, counter_set.name).items():
                assert amount <= limits[key], (device.name, key)


def test_instances_of_one_profile_fit_together(node: Node) -> None:
    counter_set = node.inventory.counter_sets[0]
    limits = {k: parse_quantity(v) for k, v in counter_set.counters.items()}
    partitions = [d for d in node.devices if d.attributes["type"].value == "partition"]
    by_profile = itertools.groupby(
        sorted((d for d in partitions if d.physical == "gpu-0"), key=lambda d: str(d.attributes["profile"].value)),
        key=lambda d: d.attributes["profile"].value,
    )
    counted = 0
    for _profile, group in by_profile:
        members = list(group)
        counted += len(members)
        for key in limits:
            total = sum(_consumption(d, counter_set.name)[key] for d in members)
            assert total <= limits[key]
    assert counted == 12  # 7 x 1g-5gb, 3 x 2g-10gb, 2 x 3g-20gb on a 40Gi/7-slice GPU


def test_whole_gpu_consumes_all_counters_so_it_excludes_partitions(node: Node) -> None:
    whole = next(d for d in node.devices if d.name == "gpu-0")
    assert _consumption(whole, "gpu-0-counters") == {"memory": parse_quantity("40Gi"), "compute": 7}


def test_memory_shared_gpu_accepts_multiple_allocations(node: Node) -> None:
    shared = next(d for d in node.devices if d.name == "gpu-3")
    assert shared.allow_multiple_allocations
    policy = shared.capacity["memory"].request_policy
    assert policy is not None and policy.minimum == "4Gi"
    assert not shared.consumes_counters


def _spec_with_profiles(profiles: list[dict[str, object]]) -> dict[str, object]:
    return {
        "apiVersion": "drafarm.dev/v1alpha1",
        "kind": "Farm",
        "metadata": {"name": "p"},
        "spec": {"nodeGroups": [{"name": "w", "devices": {"gpu": {"count": 1, "partitions": profiles}}}]},
    }


def test_impossible_partition_is_rejected_with_the_field_named() -> None:
    with pytest.raises(SpecError) as err:
        parse_farm_spec(_spec_with_profiles([{"name": "9g-50gb", "computeSlices": 9, "memory": "50Gi"}]))
    text = str(err.value)
    assert "spec.nodeGroups[0].devices.gpu.partitions[0].computeSlices: got 9" in text
    assert "spec.nodeGroups[0].devices.gpu.partitions[0].memory" in text


def test_too_many_partition_devices_per_gpu_are_rejected() -> None:
    spec = _spec_with_profiles([{"name": "tiny", "computeSlices": 1, "memory": "1Mi"}])
    spec["spec"]["nodeGroups"][0]["devices"]["gpu"]["computeSlices"] = 64  # type: ignore[index]
    with pytest.raises(SpecError) as err:
        parse_farm_spec(spec)
    assert "must fit one ResourceSlice with counters" in str(err.value)
