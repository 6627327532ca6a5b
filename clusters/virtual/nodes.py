"""A virtual node's Node object: the farm node's name and labels, marked for kwok (annotation and the
fleet's label, which the fleet's kwok selects on) and tainted, so only pods that tolerate the taint (the
scale workloads, scenarios) land on it and no other test's pod waits on a node that runs nothing."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from clusters.images.catalog import WORKLOAD
from fakedevices.model import Node

FLEET_LABEL = "drafarm.dev/virtual-fleet"
TAINT_KEY = "kwok.x-k8s.io/node"
TAINT = {"key": TAINT_KEY, "value": "fake", "effect": "NoSchedule"}
TOLERATION = {"key": TAINT_KEY, "operator": "Exists", "effect": "NoSchedule"}
"""What a pod adds to run on virtual nodes."""
CAPACITY = {"cpu": "64", "memory": "512Gi", "pods": "110"}


def node_object(node: Node, fleet: str) -> dict[str, Any]:
    labels = {
        **node.labels,
        FLEET_LABEL: fleet,
        "kubernetes.io/hostname": node.name,
        "kubernetes.io/os": "linux",
        "kubernetes.io/arch": "amd64",
        "type": "kwok",
    }
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": node.name,
            "labels": labels,
            "annotations": {"kwok.x-k8s.io/node": "fake", "node.alpha.kubernetes.io/ttl": "0"},
        },
        "spec": {"taints": [TAINT]},
        "status": {"capacity": CAPACITY, "allocatable": CAPACITY},
    }


def ready(obj: dict[str, Any]) -> bool:
    conditions = (obj.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


def gpu_workload_pod(name: str, node_selector: Mapping[str, str], template: str) -> dict[str, Any]:
    """A pod for the virtual nodes `node_selector` picks, its one container holding the devices of its claim
    `gpu`, made from ResourceClaimTemplate `template` (its image is never pulled: kwok only plays it running)."""
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name},
        "spec": {
            "nodeSelector": dict(node_selector),
            "tolerations": [TOLERATION],
            "containers": [{"name": "c", "image": WORKLOAD.ref, "resources": {"claims": [{"name": "gpu"}]}}],
            "resourceClaims": [{"name": "gpu", "resourceClaimTemplateName": template}],
        },
    }
