"""`drafarm scenario capture`: a scenario written from a running cluster's DRA objects.

Device classes, claim templates, claims and the pods that use claims become `create` steps (pods last,
each followed by a wait for the state it had); slices of other drivers become extra ResourceSlices on
`${node}`; each pod's state when captured becomes an expectation. Pods run drafarm's workload image
with a sleep (the captured images are not on the fake farm); `driver_map` renames drivers.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from harness.kube import Kube
from harness.scenario.schema import API_VERSION, parse_scenario

_SYSTEM_NAMESPACES = ("kube-system", "kube-public", "kube-node-lease")
_KEPT_META = ("name", "labels")


def capture_scenario(
    kubeconfig: Path,
    namespaces: tuple[str, ...] = (),
    name: str = "captured",
    farm: str = "small",
    driver_map: dict[str, str] | None = None,
) -> str:
    kube = Kube(kubeconfig, field_manager="drafarm-capture")
    version = str(kube.version().get("gitVersion", "unknown"))
    rename = dict(driver_map or {})
    farm_driver = "drafarm.dev"
    pods = [p for p in kube.items("Pod") if _wanted(p, namespaces) and (p.get("spec") or {}).get("resourceClaims")]
    pod_namespaces = {str(p["metadata"]["namespace"]) for p in pods}
    templates = [t for t in kube.items("ResourceClaimTemplate") if _wanted(t, namespaces)]
    claims = [
        c
        for c in kube.items("ResourceClaim")
        if _wanted(c, namespaces)
        and not _made_from_template(c)
        and c["metadata"]["namespace"] in pod_namespaces | set(namespaces)
    ]
    classes = kube.items("DeviceClass")
    # A renamed driver's devices are the farm's now: only other drivers' slices are replayed.
    replaced = (farm_driver, *rename, *rename.values())
    slices = [s for s in kube.items("ResourceSlice") if s["spec"].get("driver") not in replaced]
    steps: list[dict[str, Any]] = []
    for obj in classes:
        steps.append({"create": _rename(_clean(obj, "resource.k8s.io/v1", "DeviceClass"), rename)})
    for obj in slices:
        cleaned = _rename(_clean(obj, "resource.k8s.io/v1", "ResourceSlice"), rename)
        if cleaned["spec"].get("nodeName"):
            cleaned["spec"]["nodeName"] = "${node}"
        steps.append({"create": cleaned})
    for obj in templates:
        steps.append({"create": _rename(_clean(obj, "resource.k8s.io/v1", "ResourceClaimTemplate"), rename)})
    for obj in claims:
        steps.append({"create": _rename(_clean(obj, "resource.k8s.io/v1", "ResourceClaim"), rename)})
    expectations = []
    seen: set[str] = set()
    for pod in pods:
        pod_name = str(pod["metadata"]["name"])
        if pod_name in seen:
            continue
        seen.add(pod_name)
        steps.append({"create": _pod(pod)})
        expectations.append({"pod": pod_name, "state": _state(pod)})
    document = {
        "apiVersion": API_VERSION,
        "kind": "Scenario",
        "metadata": {"name": name, "description": f"captured from a Kubernetes {version} cluster"},
        "spec": {"farm": farm, "steps": steps, "expectations": expectations or [{"component": "kube-scheduler"}]},
    }
    parse_scenario(document, "captured scenario")
    header = (
        f"# Captured from a Kubernetes {version} cluster by `drafarm scenario capture`.\n"
        "# Pods run drafarm's workload image with a sleep; check the device classes' selectors match the farm.\n"
    )
    return header + yaml.safe_dump(document, sort_keys=False)


def _wanted(obj: dict[str, Any], namespaces: tuple[str, ...]) -> bool:
    ns = obj["metadata"].get("namespace")
    return ns in namespaces if namespaces else ns not in _SYSTEM_NAMESPACES


def _made_from_template(claim: dict[str, Any]) -> bool:
    return any(ref.get("kind") == "Pod" for ref in claim["metadata"].get("ownerReferences") or [])


def _clean(obj: dict[str, Any], api_version: str, kind: str) -> dict[str, Any]:
    meta = {k: v for k, v in obj["metadata"].items() if k in _KEPT_META and v}
    return {"apiVersion": api_version, "kind": kind, "metadata": meta, "spec": obj.get("spec") or {}}


def _rename(obj: dict[str, Any], rename: dict[str, str]) -> dict[str, Any]:
    if not rename:
        return obj
    text = yaml.safe_dump(obj)
    for old, new in rename.items():
        text = text.replace(old, new)
    renamed: dict[str, Any] = yaml.safe_load(text)
    return renamed


def _pod(pod: dict[str, Any]) -> dict[str, Any]:
    spec = pod.get("spec") or {}
    containers = []
    for c in spec.get("containers") or []:
        container: dict[str, Any] = {"name": c["name"], "image": "${image}", "command": ["sh", "-c", "sleep 3600"]}
        claims = (c.get("resources") or {}).get("claims")
        if claims:
            container["resources"] = {"claims": claims}
        containers.append(container)
    out_spec: dict[str, Any] = {
        "terminationGracePeriodSeconds": 1,
        "resourceClaims": spec["resourceClaims"],
        "containers": containers,
    }
    tolerations = [
        t for t in spec.get("tolerations") or [] if not str(t.get("key", "")).startswith("node.kubernetes.io/")
    ]
    if tolerations:
        out_spec["tolerations"] = tolerations
    meta = {k: v for k, v in pod["metadata"].items() if k in _KEPT_META and v}
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": out_spec}


def _state(pod: dict[str, Any]) -> str:
    phase = str((pod.get("status") or {}).get("phase", "Pending"))
    if phase == "Pending" and (pod.get("spec") or {}).get("nodeName"):
        return "Scheduled"
    return phase if phase in ("Running", "Pending", "Succeeded", "Failed") else "Pending"
