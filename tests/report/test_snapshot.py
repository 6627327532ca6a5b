"""snapshot_from_cluster: device states from ResourceSlices and ResourceClaims of any driver."""

from __future__ import annotations

from typing import Any

from harness.report.snapshot import snapshot_from_cluster, state_counts
from tests.report.sample import CAM, GPU, claim, gpu, node_slice, sample_cluster


def states(snapshot: dict[str, Any]) -> dict[str, str]:
    return {
        f"{group['name']}/{d['name']}": d["state"]
        for group in snapshot["nodes"] + snapshot["pools"]
        for d in group["devices"]
    }


def test_free_allocated_shared_unhealthy() -> None:
    slices = [node_slice("n1", [gpu("gpu-0"), gpu("gpu-1"), gpu("gpu-2"), gpu("gpu-3")])]
    claims = [
        claim("a", "one", (GPU, "n1", "gpu-1")),
        claim("b", "two", (GPU, "n1", "gpu-2")),
        claim("c", "three", (GPU, "n1", "gpu-2")),
    ]
    snapshot = snapshot_from_cluster(slices, claims, {"gpu-3": "Unhealthy"})
    assert states(snapshot) == {
        "n1/gpu-0": "free",
        "n1/gpu-1": "allocated",
        "n1/gpu-2": "shared",
        "n1/gpu-3": "unhealthy",
    }
    by_name = {d["name"]: d for d in snapshot["nodes"][0]["devices"]}
    assert by_name["gpu-1"]["claims"] == ["a/one"]
    assert by_name["gpu-2"]["claims"] == ["b/two", "c/three"]
    assert by_name["gpu-0"]["kind"] == "gpu"
    assert snapshot["pools"] == []
    assert state_counts(snapshot) == {"free": 1, "allocated": 1, "shared": 1, "unhealthy": 1}


def test_claim_naming_the_same_device_twice_is_not_shared() -> None:
    slices = [node_slice("n1", [gpu("gpu-0")])]
    snapshot = snapshot_from_cluster(slices, [claim("a", "x", (GPU, "n1", "gpu-0"), (GPU, "n1", "gpu-0"))], None)
    assert states(snapshot) == {"n1/gpu-0": "allocated"}


def test_multi_allocation_device_and_claim_used_by_several_pods_are_shared() -> None:
    slices = [node_slice("n1", [gpu("gpu-0", allowMultipleAllocations=True), gpu("gpu-1"), gpu("gpu-2")])]
    shared_claim = claim("a", "many-pods", (GPU, "n1", "gpu-1"), reserved=2)
    with_share_id = claim("a", "share", (GPU, "n1", "gpu-2"))
    with_share_id["status"]["allocation"]["devices"]["results"][0]["shareID"] = "abc"
    snapshot = snapshot_from_cluster(slices, [claim("a", "x", (GPU, "n1", "gpu-0")), shared_claim, with_share_id], {})
    assert states(snapshot) == {"n1/gpu-0": "shared", "n1/gpu-1": "shared", "n1/gpu-2": "shared"}


def test_unhealthy_wins_and_health_keys_may_be_qualified() -> None:
    slices = [node_slice("n1", [gpu("gpu-0"), gpu("gpu-1"), gpu("gpu-2")])]
    slices[0]["spec"]["devices"][2]["taints"] = [
        {"key": "drafarm.dev/unhealthy", "value": "ecc", "effect": "NoExecute"}
    ]
    health = {f"{GPU}/n1/gpu-0": "Unhealthy", "n1/gpu-1": "HEALTHY"}
    snapshot = snapshot_from_cluster(slices, [claim("a", "x", (GPU, "n1", "gpu-0"))], health)
    assert states(snapshot) == {"n1/gpu-0": "unhealthy", "n1/gpu-1": "free", "n1/gpu-2": "unhealthy"}
    tainted = snapshot["nodes"][0]["devices"][2]
    assert tainted["taints"] == ["drafarm.dev/unhealthy=ecc:NoExecute"]


def test_same_device_name_in_another_driver_or_pool_is_a_different_device() -> None:
    slices = [node_slice("n1", [gpu("dev-0")]), node_slice("n2", [gpu("dev-0")])]
    snapshot = snapshot_from_cluster(
        slices, [claim("a", "x", (GPU, "n2", "dev-0")), claim("b", "y", (CAM, "n1", "dev-0"))]
    )
    assert states(snapshot) == {"n1/dev-0": "free", "n2/dev-0": "allocated"}


def test_network_pools_and_stale_generations() -> None:
    slices, claims, health = sample_cluster()
    stale = node_slice("worker-a", [gpu("gone-0")], generation=0)
    snapshot = snapshot_from_cluster([*slices, stale], claims, health)
    assert [n["name"] for n in snapshot["nodes"]] == ["worker-a", "worker-b", "worker-c"]
    assert "worker-a/gone-0" not in states(snapshot)
    (pool,) = snapshot["pools"]
    assert pool["name"] == "lab-cameras"
    assert pool["driver"] == CAM
    assert pool["scope"] == "selector zone In lab"
    assert [d["kind"] for d in pool["devices"]] == ["camera"] * 5
    assert states(snapshot)["lab-cameras/lab-cam-0"] == "shared"  # multi-allocation device
    assert states(snapshot)["lab-cameras/lab-cam-4"] == "unhealthy"
    assert state_counts(snapshot) == {"free": 13, "allocated": 5, "shared": 3, "unhealthy": 2}


def test_all_nodes_pool_and_kind_fallbacks() -> None:
    slice_ = {
        "spec": {
            "driver": "net.example.com",
            "allNodes": True,
            "pool": {"name": "fabric", "generation": 1, "resourceSliceCount": 1},
            "devices": [
                {"name": "nic10"},
                {"name": "x", "attributes": {"example.com/type": {"string": "switch"}}},
            ],
        }
    }
    snapshot = snapshot_from_cluster([slice_], [], None, taken="2025-01-01T00:00:00+00:00")
    assert snapshot["taken"] == "2025-01-01T00:00:00+00:00"
    (pool,) = snapshot["pools"]
    assert pool["scope"] == "all nodes"
    assert {d["name"]: d["kind"] for d in pool["devices"]} == {"nic10": "nic", "x": "switch"}


def test_devices_sorted_naturally() -> None:
    slices = [node_slice("n1", [gpu("gpu-10"), gpu("gpu-2"), gpu("gpu-1")])]
    snapshot = snapshot_from_cluster(slices, [])
    assert [d["name"] for d in snapshot["nodes"][0]["devices"]] == ["gpu-1", "gpu-2", "gpu-10"]
