"""The driver's ResourceSlices obey the pool rules and the API's limits."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import pytest

from fakedevices.dra_rules import device_problems
from harness.dratest import DraTest

pytestmark = [pytest.mark.area("slices"), pytest.mark.smoke]


def _slices(dra: DraTest) -> list[dict[str, Any]]:
    slices = dra.kube.items("ResourceSlice", fields={"spec.driver": dra.driver})
    assert slices, (
        f"driver {dra.driver} has no ResourceSlices in the cluster: it is not running or not registered with "
        "the kubelet, publishes none, or its slices were deleted (as a kubelet restart does) and it did not "
        "publish them again"
    )
    return slices


def _pools(dra: DraTest) -> dict[str, list[dict[str, Any]]]:
    pools: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for slice_ in _slices(dra):
        pools[slice_["spec"]["pool"]["name"]].append(slice_)
    return pools


def test_pool_generation_and_slice_count_are_consistent(dra: DraTest) -> None:
    problems = []
    for pool, slices in _pools(dra).items():
        generations = sorted({s["spec"]["pool"]["generation"] for s in slices})
        newest = [s for s in slices if s["spec"]["pool"]["generation"] == generations[-1]]
        if len(generations) > 1:
            stale = [s["metadata"]["name"] for s in slices if s["spec"]["pool"]["generation"] != generations[-1]]
            problems.append(
                f"pool {pool}: slices carry generations {generations}; {stale} have a stale generation "
                "(on any change the driver must bump the generation on every slice of the pool)"
            )
        counts = {s["spec"]["pool"]["resourceSliceCount"] for s in newest}
        if counts != {len(newest)}:
            problems.append(f"pool {pool}: resourceSliceCount says {sorted(counts)} but {len(newest)} slices exist")
    assert not problems, "\n".join(problems)


def test_device_names_are_unique_within_each_pool(dra: DraTest) -> None:
    for pool, slices in _pools(dra).items():
        names = [d["name"] for s in slices for d in s["spec"].get("devices") or []]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        assert not duplicates, f"pool {pool}: device names published more than once: {duplicates}"


def test_devices_obey_the_api_rules(dra: DraTest) -> None:
    problems = [
        f"slice {s['metadata']['name']}: {p}"
        for s in _slices(dra)
        for d in s["spec"].get("devices") or []
        for p in device_problems(d)
    ]
    assert not problems, "\n".join(problems)


def test_node_slices_belong_to_existing_nodes_and_are_owned_by_them(dra: DraTest) -> None:
    nodes = {n["metadata"]["name"]: n["metadata"]["uid"] for n in dra.kube.items("Node")}
    for slice_ in _slices(dra):
        node = slice_["spec"].get("nodeName")
        if not node:
            continue
        name = slice_["metadata"]["name"]
        assert node in nodes, f"slice {name} names node {node!r}, which does not exist"
        owners = [o for o in slice_["metadata"].get("ownerReferences") or [] if o.get("kind") == "Node"]
        assert owners and owners[0].get("name") == node and owners[0].get("uid") == nodes[node], (
            f"slice {name} for node {node} has no ownerReference to that Node "
            f"(got {owners}); without it the slices outlive the node"
        )
