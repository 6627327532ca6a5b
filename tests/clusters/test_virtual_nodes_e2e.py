"""Virtual nodes on the real local cluster: a farm with a virtual node group, deployed through the provider,
gives that many Ready nodes whose devices are published in slices owned by their Nodes; the real
scheduler allocates claims from them to pods that kwok runs, each claim on its pod's node, no device twice,
a pod beyond the devices waits; a device marked unhealthy with `drafarm fault` is tainted in its slice, so
no claim gets it until it is healthy again. Redeploying the run's own farm takes the virtual nodes away."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml
from lightkube import Client
from lightkube.codecs import from_dict
from lightkube.resources.core_v1 import Event, Node, Pod
from lightkube.resources.resource_v1 import DeviceClass, ResourceClaim, ResourceSlice

from clusters.local.provider import LocalProvider
from clusters.virtual.nodes import FLEET_LABEL, gpu_workload_pod
from fakedevices.farm import open_farm
from fakedevices.farmspec.loader import resolve_spec_path
from harness import device_lock
from harness.farm_lock import farm_exclusive
from tests.polling import wait_for

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
FARM = "small"
VIRTUAL = 20
GPUS = 2


def _farm_spec(directory: Path) -> Path:
    """The run's farm plus a group of virtual nodes (same driver: the real node keeps serving its devices)."""
    document: dict[str, Any] = yaml.safe_load(resolve_spec_path(FARM).read_text())
    document["metadata"]["name"] = "with-virtual"
    document["spec"]["nodeGroups"].append(
        {"name": "sim", "namePattern": "sim-{index}", "count": VIRTUAL, "virtual": True,
         "devices": {"gpu": {"count": GPUS}}}
    )  # fmt: skip
    path = directory / "with-virtual.yaml"
    path.write_text(yaml.safe_dump(document))
    return path


def _ready(node: Node) -> bool:
    conditions = node.status.conditions if node.status and node.status.conditions else []
    return any(c.type == "Ready" and c.status == "True" for c in conditions)


def _pod(name: str, template: str) -> dict[str, Any]:
    return gpu_workload_pod(name, {"drafarm.dev/group": "sim"}, template)


def _phase(kube: Client, name: str, namespace: str) -> str:
    pod = kube.get(Pod, name, namespace=namespace)
    return str(pod.status.phase) if pod.status else "?"


def test_virtual_nodes_take_claims_from_the_real_scheduler(
    farm_cluster: LocalProvider, kube: Client, namespace: str, tmp_path: Path
) -> None:
    source = open_farm(_farm_spec(tmp_path))
    driver = source.farm.driver
    klass = f"virtual-gpu-{uuid.uuid4().hex[:6]}"
    with device_lock.exclusive(driver, farm_cluster.kubeconfig()), farm_exclusive(farm_cluster.kubeconfig()):
        try:
            farm_cluster.deploy_farm(source)
            nodes = list(kube.list(Node, labels={FLEET_LABEL: "with-virtual"}))
            assert len(nodes) == VIRTUAL and all(_ready(n) for n in nodes), [n.metadata.name for n in nodes]
            uids = {n.metadata.name: n.metadata.uid for n in nodes if n.metadata is not None}
            slices = list(kube.list(ResourceSlice, labels={FLEET_LABEL: "with-virtual"}))
            assert {s.spec.nodeName for s in slices} == set(uids)
            assert sum(len(s.spec.devices or []) for s in slices) == VIRTUAL * GPUS
            for s in slices:
                owners = s.metadata.ownerReferences or [] if s.metadata else []
                assert [(o.kind, o.uid) for o in owners] == [("Node", uids[s.spec.nodeName])], s.metadata
            kube.create(from_dict({
                "apiVersion": "resource.k8s.io/v1", "kind": "DeviceClass", "metadata": {"name": klass},
                "spec": {"selectors": [{"cel": {"expression": f'device.driver == "{driver}"'}}]},
            }))  # fmt: skip
            kube.create(from_dict({
                "apiVersion": "resource.k8s.io/v1", "kind": "ResourceClaimTemplate", "metadata": {"name": "one-gpu"},
                "spec": {"spec": {"devices": {"requests": [{"name": "gpu", "exactly": {"deviceClassName": klass}}]}}},
            }), namespace=namespace)  # fmt: skip
            sick = _fault("sim-0", "set-health", "gpu-0", "unhealthy", "--reason", "ECC errors")
            assert json.loads(sick)["devices"] == ["gpu-0"], sick
            assert json.loads(_fault("sim-0", "status"))["health"] == {"gpu-0": "unhealthy", "gpu-1": "healthy"}
            names = [f"p{i}" for i in range(VIRTUAL * GPUS - 1)]  # every GPU but the tainted one
            for name in names:
                kube.create(from_dict(_pod(name, "one-gpu")), namespace=namespace)
            wait_for(
                lambda: all(_phase(kube, n, namespace) == "Running" for n in names),
                120,
                f"{len(names)} pods on virtual nodes Running",
                lambda: str(sorted(_phase(kube, n, namespace) for n in names)),
            )
            taken: list[tuple[str, str]] = []
            for name in names:
                pod = kube.get(Pod, name, namespace=namespace)
                claim_name = next(s.resourceClaimName for s in pod.status.resourceClaimStatuses or [])
                claim = kube.get(ResourceClaim, claim_name, namespace=namespace)
                (result,) = claim.status.allocation.devices.results
                assert result.pool == pod.spec.nodeName, f"{name} on {pod.spec.nodeName}, its GPU in {result.pool}"
                taken.append((result.pool, result.device))
            assert len(set(taken)) == len(taken), "a device was allocated twice"
            assert ("sim-0", "gpu-0") not in taken, "a claim was allocated the unhealthy (tainted) device"
            kube.create(from_dict(_pod("one-too-many", "one-gpu")), namespace=namespace)
            wait_for(
                lambda: any("cannot allocate all claims" in (e.message or "") for e in _events(kube, namespace)),
                60,
                "the pod beyond the farm's GPUs to be unschedulable for its claim",
                lambda: _phase(kube, "one-too-many", namespace),
            )
            assert _phase(kube, "one-too-many", namespace) == "Pending"
            _fault("sim-0", "set-health", "gpu-0", "healthy")
            wait_for(lambda: _phase(kube, "one-too-many", namespace) == "Running", 60,
                     "the pending pod to get the device that became healthy",
                     lambda: _phase(kube, "one-too-many", namespace))  # fmt: skip
            assert kube.get(Pod, "one-too-many", namespace=namespace).spec.nodeName == "sim-0"
        finally:
            for pod in kube.list(Pod, namespace=namespace):
                if pod.metadata is not None and pod.metadata.name:
                    kube.delete(Pod, pod.metadata.name, namespace=namespace, grace_period=0)
            farm_cluster.deploy_farm(open_farm(FARM))  # the run's own farm again: the fleet goes
            kube.delete(DeviceClass, klass)
    assert list(kube.list(Node, labels={FLEET_LABEL: "with-virtual"})) == []
    assert list(kube.list(ResourceSlice, labels={FLEET_LABEL: "with-virtual"})) == []


def _fault(node: str, *args: str) -> str:
    """`drafarm fault --node NODE ...` as a user types it; its output."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_XDIST")}
    env["PYTHONPATH"] = str(ROOT)
    result = subprocess.run([sys.executable, "-m", "harness", "fault", "--node", node, *args], env=env,
                            capture_output=True, text=True, timeout=60, check=False)  # fmt: skip
    assert result.returncode == 0, result.stderr
    return result.stdout


def _events(kube: Client, namespace: str) -> list[Any]:
    return [e for e in kube.list(Event, namespace=namespace) if e.involvedObject.name == "one-too-many"]
