"""Choosing among nodes: allocation spreads, a shared claim keeps its pods together, a network device's
pods stay on the nodes that reach it, a drained or tainted node's claims follow their pods. Skipped with
the reason on a cluster with one node of the driver's devices."""

from __future__ import annotations

from typing import Any

import pytest

from harness import builders as b
from harness.device_taints import device_taint
from harness.dratest import DraTest
from harness.profile_model import cel_literal, split_name

pytestmark = [pytest.mark.area("multi-node"), pytest.mark.min_nodes(2)]
HOLD = "echo drafarm-holding; sleep 600"


def _node(dra: DraTest, pod: str) -> str:
    return str(((dra.get("Pod", pod) or {}).get("spec") or {}).get("nodeName") or "")


def _served_nodes(dra: DraTest) -> list[str]:
    slices = dra.kube.items("ResourceSlice", fields={"spec.driver": dra.driver})
    return sorted({str(s["spec"]["nodeName"]) for s in slices if s["spec"].get("nodeName")})


def _fill_state(dra: DraTest, pod: str) -> str | None:
    """ "running", "full" (the scheduler found no device for it on the node), or None while undecided."""
    status = (dra.get("Pod", pod) or {}).get("status") or {}
    if status.get("phase") == "Running":
        return "running"
    full = any(  # not "unschedulable" while the claim from the template is still being made
        c.get("reason") == "Unschedulable" and "cannot allocate all claims" in str(c.get("message"))
        for c in status.get("conditions") or []
    )
    return "full" if full else None


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


def _matches(node: dict[str, Any], selector: dict[str, Any]) -> bool:
    """Whether a node satisfies a NodeSelector (terms ORed, requirements ANDed)."""
    labels = (node.get("metadata") or {}).get("labels") or {}
    fields = {"metadata.name": (node.get("metadata") or {}).get("name")}

    def holds(req: dict[str, Any], values: dict[str, Any]) -> bool:
        have, op, want = values.get(req["key"]), req["operator"], req.get("values") or []
        return {
            "In": have in want,
            "NotIn": have not in want,
            "Exists": req["key"] in values,
            "DoesNotExist": req["key"] not in values,
        }.get(op, False)

    return any(
        all(holds(r, labels) for r in term.get("matchExpressions") or [])
        and all(holds(r, fields) for r in term.get("matchFields") or [])
        for term in selector.get("nodeSelectorTerms") or []
    )


def _pool_nodes(dra: DraTest, claim: str) -> tuple[list[str], list[str]]:
    """(served nodes the claim's network device reaches, served nodes it does not)."""
    selector = dra.allocation(claim).get("nodeSelector")
    assert selector, f"claim {claim}'s network device was allocated without the pool's node selector"
    served = _served_nodes(dra)
    inside = [n for n in served if _matches(dra.kube.get("Node", n) or {}, selector)]
    return inside, [n for n in served if n not in inside]


def _same_device(dra: DraTest, pool: str, name: str) -> str:
    """CEL that selects the device `pool/name` by every one of its attributes (CEL cannot see a name)."""
    terms = []
    for qualified, value in sorted((dra.device(pool, name).get("attributes") or {}).items()):
        domain, ident = split_name(qualified, dra.driver)
        (kind, literal), *_ = value.items()
        if kind in ("string", "int", "bool"):
            terms.append(f'device.attributes["{domain}"].{ident} == {cel_literal(literal)}')
    assert terms, f"device {pool}/{name} has no attribute to select it by"
    return " && ".join(terms)


@pytest.mark.capability("networkAttached")
def test_a_network_devices_pod_runs_on_a_node_that_reaches_it_never_outside(dra: DraTest) -> None:
    dra.claim("cam", b.request("cam", dra.device_class("camera")))
    dra.pod("viewer", HOLD, claims={"cam": "cam"})
    dra.wait.pod_running("viewer", timeout=180)
    inside, outside = _pool_nodes(dra, "cam")
    assert _node(dra, "viewer") in inside, f"pod viewer runs on {_node(dra, 'viewer')}, outside {inside}"
    if not outside:
        pytest.skip(f"every node with {dra.driver} devices reaches the camera pool: none to stay off")
    [result] = dra.results("cam")
    same = _same_device(dra, result["pool"], result["device"])  # other nodes may well reach other cameras
    dra.claim("cam-out", b.request("cam", dra.device_class("camera"), cel=same))
    dra.pod("outsider", HOLD, claims={"cam": "cam-out"}, on_node=outside[0])
    event = dra.wait.event("outsider", "FailedScheduling", "", 120)
    phase = ((dra.get("Pod", "outsider") or {}).get("status") or {}).get("phase")
    assert phase == "Pending" and not dra.results("cam-out"), (
        f"a pod pinned to {outside[0]}, which reaches no camera of the pool, got {dra.results('cam-out')} "
        f"(phase {phase}; scheduler said: {event.get('message')})"
    )


@pytest.mark.needs_farm
@pytest.mark.capability("networkAttached")
def test_a_pod_on_each_node_of_the_pool_reads_frames_from_its_camera(dra: DraTest) -> None:
    dra.claim("probe", b.request("cam", dra.device_class("camera")))
    dra.run("probe", "true", claims={"cam": "probe"})
    inside, _ = _pool_nodes(dra, "probe")
    for i, node in enumerate(inside[:3]):
        dra.claim(f"cam-{i}", b.request("cam", dra.device_class("camera")))
        logs = dra.run(
            f"viewer-{i}",
            "python3 -m fakedevices.client camera-frames --count 2 --check",
            claims={"cam": f"cam-{i}"},
            on_node=node,
            timeout=180,
        )
        [result] = dra.results(f"cam-{i}")
        assert dra.json_lines(logs)[-1]["camera"] == result["device"], (node, logs[-500:])


@pytest.mark.dra_gate("DRADeviceTaints")
@pytest.mark.dra_gate("DRADeviceTaintRules")
@pytest.mark.devices_alone  # the taint evicts every pod using the node's devices, other tests' too
def test_a_no_execute_taint_on_a_nodes_devices_moves_the_pod_to_another_node(dra: DraTest) -> None:
    dra.template("per-pod", b.request("gpu", dra.device_class("gpu")))
    dra.create(_replica_set("tainted", dra.env.image, "per-pod", None))
    first = dra.wait.until("the ReplicaSet's pod to run", lambda: _rs_pod(dra, "tainted"), 180)
    [result] = dra.results(dra.pod_claim_name(first["metadata"]["name"], "gpu"))
    with device_taint(dra, "NoExecute", result["pool"]):
        replacement = dra.wait.until(
            f"the pod to be evicted from pool {result['pool']} and replaced on another node",
            lambda: (p := _rs_pod(dra, "tainted")) and p["metadata"]["uid"] != first["metadata"]["uid"] and p,
            240,
        )
        assert replacement["spec"]["nodeName"] != first["spec"]["nodeName"], (
            f"the replacement runs on {first['spec']['nodeName']}, whose devices all carry a NoExecute taint"
        )
        [moved] = dra.results(dra.pod_claim_name(replacement["metadata"]["name"], "gpu"))
        assert moved["pool"] != result["pool"], f"the replacement got {moved}, a device of the tainted pool"
