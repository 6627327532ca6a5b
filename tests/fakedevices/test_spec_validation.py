"""Bad farm specs fail with one problem per field: the path, the value seen and what is allowed."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import yaml

from fakedevices.farmspec.loader import EXAMPLES, load_farm_spec
from fakedevices.farmspec.schema import parse_farm_spec
from fakedevices.spec.problems import SpecError

BASE: dict[str, Any] = yaml.safe_load((EXAMPLES / "small.yaml").read_text())


def _problems(mutate: Any) -> list[str]:
    document = copy.deepcopy(BASE)
    mutate(document)
    with pytest.raises(SpecError) as err:
        parse_farm_spec(document)
    return [str(p) for p in err.value.problems]


def _group(doc: dict[str, Any]) -> dict[str, Any]:
    group: dict[str, Any] = doc["spec"]["nodeGroups"][0]
    return group


def test_examples_are_valid() -> None:
    for name in ("small", "mixed", "large"):
        load_farm_spec(name)


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (
            lambda d: d.update(apiVersion="drafarm.dev/v9"),
            'apiVersion: got "drafarm.dev/v9"; allowed: drafarm.dev/v1alpha1',
        ),
        (lambda d: d["spec"].update(colour="blue"), 'spec.colour: got "blue"; unknown field'),
        (lambda d: d["spec"].update(seed="forty-two"), 'spec.seed: got "forty-two"; expected an integer'),
        (lambda d: d["spec"].update(seed=-1), "spec.seed: got -1; allowed: an integer from 0"),
        (lambda d: d["spec"].update(driver="Not_A_Domain"), 'spec.driver: got "Not_A_Domain"'),
        (
            lambda d: _group(d).update(count=0),
            "spec.nodeGroups[0].count: got 0; allowed: an integer from 1 to 5000",
        ),
        (
            lambda d: _group(d)["devices"]["gpu"].update(count=65),
            "spec.nodeGroups[0].devices.gpu.count: got 65",
        ),
        (
            lambda d: _group(d)["devices"]["gpu"].update(count="4"),
            'devices.gpu.count: got "4"; expected an integer',
        ),
        (
            lambda d: _group(d)["devices"]["gpu"].update(model="h100"),
            'devices.gpu.model: got "h100"; allowed: df100',
        ),
        (lambda d: _group(d)["devices"]["gpu"].update(memory="lots"), 'devices.gpu.memory: got "lots"'),
        (lambda d: _group(d)["devices"]["gpu"].update(driverVersion="5.5"), "must be a semantic version"),
        (
            lambda d: _group(d)["devices"]["fpga"].update(family="cyclone"),
            'devices.fpga.family: got "cyclone"',
        ),
        (
            lambda d: _group(d)["devices"].update(tpu={"count": 1}),
            'devices.tpu: got "tpu"; unknown device kind',
        ),
        (lambda d: _group(d)["devices"].update(camera={"count": 1}), "network-attached: declare them under"),
        (lambda d: _group(d).update(namePattern="node"), 'must contain "{index}"'),
        (lambda d: _group(d).update(namePattern="Node_{index}"), "not a lowercase DNS name"),
        (lambda d: _group(d).update(labels={"bad key!": "x"}), "not a valid label key"),
        (lambda d: _group(d).update(virtual="yes"), 'spec.nodeGroups[0].virtual: got "yes"; expected true or false'),
        (lambda d: d["spec"]["nodeGroups"].append(copy.deepcopy(_group(d))), "duplicate node group name"),
        (
            lambda d: d["spec"]["networkPools"][0].update(reachableFrom=["nowhere"]),
            'reachableFrom[0]: got "nowhere"',
        ),
        (lambda d: d["spec"]["networkPools"][0].update(count=201), "networkPools[0].count: got 201"),
        (lambda d: d["spec"]["networkPools"][0].update(minShareMbps=500), "minShareMbps: got 500"),
        (lambda d: d["spec"]["networkPools"][0].update(kind="gpu"), 'networkPools[0].kind: got "gpu"'),
        (lambda d: d["spec"]["networkPools"][0].update(name="drafarm-worker-0"), "pool names must differ"),
        (lambda d: d["spec"].update(nodeGroups=[]), "at least one node group is required"),
        (lambda d: d["spec"]["nodeGroups"][0].update(count=5001), "an integer from 1 to 5000"),
    ],
)
def test_bad_spec_names_field_value_and_fix(mutate: Any, expected: str) -> None:
    problems = _problems(mutate)
    assert any(expected in p for p in problems), problems


def test_all_problems_are_reported_at_once() -> None:
    def mutate(d: dict[str, Any]) -> None:
        d["spec"]["seed"] = "x"
        _group(d)["devices"]["gpu"]["count"] = 1000
        d["spec"]["networkPools"][0]["fps"] = 0

    assert len(_problems(mutate)) == 3


def test_not_a_mapping_and_missing_spec() -> None:
    with pytest.raises(SpecError) as err:
        parse_farm_spec(["a", "list"])
    assert "expected a mapping" in str(err.value)
    with pytest.raises(SpecError) as err:
        parse_farm_spec({"apiVersion": "drafarm.dev/v1alpha1", "kind": "Farm", "metadata": {"name": "x"}})
    assert "spec: got null; required" in str(err.value)


def test_validation_changes_nothing_in_the_input() -> None:
    document = copy.deepcopy(BASE)
    _group(document)["devices"]["gpu"]["count"] = 999
    snapshot = copy.deepcopy(document)
    with pytest.raises(SpecError):
        parse_farm_spec(document)
    assert document == snapshot


def test_cameras_of_a_pool_with_a_bind_address_each_get_their_own() -> None:
    document = copy.deepcopy(BASE)
    document["spec"]["networkPools"][0]["bindAddress"] = "198.19.7.10"
    from fakedevices.farm import build_farm

    farm = build_farm(parse_farm_spec(document))
    addresses = [str(c.identity.ip_address) for c in farm.pools[0].inventory.cards]  # type: ignore[attr-defined]
    assert addresses == ["198.19.7.10", "198.19.7.11"]
    published = {d.name: d.attributes["ipAddress"].value for d in farm.pools[0].devices}
    assert sorted(published.values()) == addresses


def test_a_bind_address_with_no_room_for_the_pools_cameras_is_refused() -> None:
    def last_address(doc: dict[str, Any]) -> None:
        doc["spec"]["networkPools"][0]["bindAddress"] = "255.255.255.255"

    [problem] = _problems(last_address)
    assert "networkPools[0].bindAddress" in problem and "do not fit" in problem
