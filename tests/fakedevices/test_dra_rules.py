"""Every device of every shipped farm obeys the resource.k8s.io/v1 rules, and the checker catches breakage."""

from __future__ import annotations

from typing import Any

import pytest

from fakedevices.dra_rules import device_problems
from fakedevices.farm import build_farm
from fakedevices.farmspec.loader import example_names, load_farm_spec


@pytest.fixture(scope="module", params=["small", "mixed"])
def farm_devices(request: pytest.FixtureRequest) -> list[dict[str, Any]]:
    farm = build_farm(load_farm_spec(request.param))
    return [device.to_api() for _, device in farm.all_devices()]


def test_examples_ship_small_mixed_and_large() -> None:
    assert {"small", "mixed", "large"} <= set(example_names())


def test_every_device_obeys_the_api_rules(farm_devices: list[dict[str, Any]]) -> None:
    problems = [p for device in farm_devices for p in device_problems(device)]
    assert problems == []


def test_device_names_are_unique_per_pool() -> None:
    farm = build_farm(load_farm_spec("mixed"))
    seen: set[tuple[str, str]] = set()
    for pool, device in farm.all_devices():
        assert (pool, device.name) not in seen
        seen.add((pool, device.name))


@pytest.mark.parametrize(
    ("kind", "attributes", "capacity"),
    [
        (
            "gpu",
            {"uuid", "model", "index", "driverVersion", "resource.kubernetes.io/pcieRoot"},
            {"memory", "compute"},
        ),
        ("fpga", {"family", "partNumber", "shellVersion", "regions", "serial"}, {"regions"}),
        ("camera", {"resolution", "fps", "codec", "zone", "serial", "ipAddress"}, {"bandwidth"}),
    ],
)
def test_each_kind_publishes_its_attributes_and_capacity(kind: str, attributes: set[str], capacity: set[str]) -> None:
    farm = build_farm(load_farm_spec("small"))
    devices = [d for _, d in farm.all_devices() if d.kind == kind]
    assert devices
    for device in devices:
        assert attributes <= set(device.attributes)
        assert capacity <= set(device.capacity)


def test_typed_attribute_values() -> None:
    farm = build_farm(load_farm_spec("small"))
    gpu = next(d for _, d in farm.all_devices() if d.name == "gpu-0")
    assert gpu.attributes["driverVersion"].type == "version"
    assert gpu.attributes["index"].type == "int"
    assert gpu.attributes["uuid"].type == "string"
    assert gpu.capacity["memory"].value == "40Gi"


@pytest.mark.parametrize(
    ("device", "fragment"),
    [
        ({"name": "Bad_Name", "attributes": {}}, "not a DNS label"),
        ({"name": "d", "attributes": {"a": {"int": 1, "bool": True}}}, "exactly one of"),
        ({"name": "d", "attributes": {"a": {"int": True}}}, "wrong type"),
        ({"name": "d", "attributes": {"a": {"string": "x" * 65}}}, "limit 64"),
        ({"name": "d", "attributes": {"a": {"version": "1.2"}}}, "not a semantic version"),
        ({"name": "d", "attributes": {"9lives": {"int": 1}}}, "not a C identifier"),
        ({"name": "d", "attributes": {"Bad_Domain/x": {"int": 1}}}, "not a DNS subdomain"),
        ({"name": "d", "attributes": {}, "capacity": {"m": {"value": "lots"}}}, "no valid quantity"),
        ({"name": "d", "attributes": {f"a{i}": {"int": i} for i in range(33)}}, "limit 32"),
    ],
)
def test_rule_checker_catches_each_violation(device: dict[str, Any], fragment: str) -> None:
    assert any(fragment in p for p in device_problems(device)), device_problems(device)
