"""Which farm nodes a provider serves for real and which become virtual: groups marked `virtual: true`
always, and with `rest_virtual` (`--virtual-nodes`) every node beyond the provider's real ones."""

from __future__ import annotations

import copy
from typing import Any

import yaml

from fakedevices.farm import FarmSource, build_farm, open_farm
from fakedevices.farmspec.loader import EXAMPLES
from fakedevices.farmspec.schema import parse_farm_spec

SPEC: dict[str, Any] = {
    "apiVersion": "drafarm.dev/v1alpha1",
    "kind": "Farm",
    "metadata": {"name": "half-virtual"},
    "spec": {
        "driver": "drafarm.dev",
        "nodeGroups": [
            {"name": "sim", "count": 3, "virtual": True, "devices": {"gpu": {"count": 2}}},
            {"name": "real", "count": 2, "devices": {"gpu": {"count": 1}}},
        ],
    },
}


def test_a_virtual_group_is_never_served_for_real() -> None:
    farm = build_farm(parse_farm_spec(copy.deepcopy(SPEC)))
    real, virtual = farm.split(1)
    assert [n.name for n in real] == ["real-0"]
    assert [n.name for n in virtual] == ["sim-0", "sim-1", "sim-2"]
    assert all(n.virtual for n in virtual) and not real[0].virtual
    _, with_rest = farm.split(1, rest_virtual=True)
    assert [n.name for n in with_rest] == ["sim-0", "sim-1", "sim-2", "real-1"]


def test_large_with_virtual_nodes_is_one_real_and_499_virtual_nodes_of_8_gpus() -> None:
    source = open_farm("large", rest_virtual=True)
    assert isinstance(source, FarmSource) and source.rest_virtual
    real, virtual = source.farm.split(1, source.rest_virtual)
    assert [n.name for n in real] == ["gpu-node-0"]
    assert len(virtual) == 499 and {len(n.devices) for n in virtual} == {8}


def test_the_examples_have_no_virtual_groups() -> None:
    for name in ("small", "mixed", "large"):
        document = yaml.safe_load((EXAMPLES / f"{name}.yaml").read_text())
        farm = build_farm(parse_farm_spec(document))
        assert farm.split(len(farm.nodes))[1] == ()
