"""Choosing among nodes: allocation spreads, a shared claim keeps its pods together, a drained node's
claims follow their pods. Skipped with the reason on a cluster with one node of the driver's devices."""

from __future__ import annotations

from typing import Any

import pytest

from harness import builders as b
from harness.dratest import DraTest

pytestmark = [pytest.mark.area("multi-node"), pytest.mark.min_nodes(2)]
HOLD = "echo drafarm-holding; sleep 600"


def _node(dra: DraTest, pod: str) -> str:
    return str(((dra.get("Pod", pod) or {}).get("spec") or {}).get("nodeName") or "")


def _served_nodes(dra: DraTest) -> list[str]:
    slices = dra.kube.items("ResourceSlice", fields={"spec.driver": dra.driver})
    return sorted({str(s["spec"]["nodeName"]) for s in slices if s["spec"].get("nodeName")})


def _fill_state(dra: DraTest, pod: str) -> str | None:
    """ "running", "full" (the scheduler found no device for it), or None while undecided."""
    status = (dra.get("Pod", pod) or {}).get("status") or {}
    if status.get("phase") == "Running":
        return "running"
    return "full" if any(c.get("reason") == "Unschedulable" for c in status.get("conditions") or []) else None


def test_when_one_nodes_devices_are_taken_the_next_pod_lands_on_another(dra: DraTest) -> None:
    first = _served_nodes(dra)[0]
    dra.template("one", b.request("gpu", dra.device_class("gpu")))
    holders = 0
    while True:  # fill `first`: one holding pod per device until the next one cannot be scheduled there
        name = f"fill-{holders}"
        dra.pod(name, HOLD, templates={"gpu": "one"}, on_node=first)
        state = dra.wait.until(
            f"pod {name} to run or be unschedulable on {first}", lambda pod=name: _fill_state(dra, pod), 180, pod=name
        )
        if state == "full":
            dra.kube.delete("Pod", name, dra.ns, grace=0)
            break
        holders += 1
        assert holders <= 64, f"node {first} accepted 64 pods with a device each; is the class node-local?"
    assert holders, f"node {first} ran no pod with a {dra.device_class('gpu')} device"
    dra.pod("free", HOLD, templates={"gpu": "one"})
    dra.wait.pod_running("free", timeout=180)
    assert _node(dra, "free") not in ("", first), f"pod free went to {first}, whose devices were all taken"


def test_pods_sharing_a_claim_run_on_one_node(dra: DraTest) -> None:
    dra.claim("shared", b.request("gpu", dra.device_class("gpu")))
    for pod in ("one", "two"):
        dra.pod(pod, HOLD, claims={"gpu": "shared"})
    for pod in ("one", "two"):
        dra.wait.pod_running(pod, timeout=180)
    nodes = {_node(dra, p) for p in ("one", "two")}
    [result] = dra.results("shared")
    assert len(nodes) == 1, f"two pods sharing claim shared (device {result['device']}) run on {nodes}"


def _replica_set(name: str, image: str, template: str, node_selector: dict[str, str] | None) -> dict[str, Any]:
    main = b.container("main", ["sh", "-c", HOLD], claims=["gpu"])
    pod = b.pod("x", main, templates={"gpu": template}, image=image, restart="Always")
    spec: dict[str, Any] = pod["spec"]
    if node_selector:
        spec["nodeSelector"] = node_selector
    return {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {"name": name},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": {"app": name}}, "spec": spec},
        },
    }


def _rs_pod(dra: DraTest, app: str) -> dict[str, Any] | None:
    pods = [p for p in dra.kube.items("Pod", dra.ns, labels={"app": app}) if not p["metadata"].get("deletionTimestamp")]
    running = [p for p in pods if (p.get("status") or {}).get("phase") == "Running"]
    return running[0] if running else None


def test_a_drained_nodes_claims_follow_the_replacement_pods(dra: DraTest) -> None:
    dra.template("per-pod", b.request("gpu", dra.device_class("gpu")))
    dra.create(_replica_set("worker", dra.env.image, "per-pod", None))
    first = dra.wait.until("the ReplicaSet's pod to run", lambda: _rs_pod(dra, "worker"), 180)
    node, old_claim = first["spec"]["nodeName"], dra.pod_claim_name(first["metadata"]["name"], "gpu")
    dra.kube.client.patch(_node_kind(), node, {"spec": {"unschedulable": True}})
    try:
        dra.kube.delete("Pod", first["metadata"]["name"], dra.ns)
        replacement = dra.wait.until(
            "a replacement pod on another node",
            lambda: (p := _rs_pod(dra, "worker")) and p["metadata"]["uid"] != first["metadata"]["uid"] and p,
            240,
        )
        assert replacement["spec"]["nodeName"] != node, f"the replacement went to the cordoned node {node}"
        dra.wait.gone("ResourceClaim", old_claim, timeout=120)
        new_claim = dra.pod_claim_name(replacement["metadata"]["name"], "gpu")
        [result] = dra.results(new_claim)
        pools = {s["spec"]["pool"]["name"]: s["spec"].get("nodeName") for s in dra.kube.items("ResourceSlice")}
        assert pools.get(result["pool"]) in (replacement["spec"]["nodeName"], None), (result, pools)
    finally:
        dra.kube.client.patch(_node_kind(), node, {"spec": {"unschedulable": False}})


def _node_kind() -> type:
    from lightkube.resources.core_v1 import Node

    return Node
