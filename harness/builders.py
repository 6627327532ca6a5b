"""Kubernetes objects for DRA tests, built to read like the YAML a user writes.

klass = device_class("gpu.example.com", cel='device.driver == "drafarm.dev"')
c = claim("two-gpus", request("gpu", "gpu.example.com", count=2),
          constraints=[match_attribute("drafarm.dev/interconnectDomain")])
p = pod("worker", container("main", ["sh", "-c", "env"], claims=["gpu"]), claims={"gpu": "two-gpus"})
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

RESOURCE_API = "resource.k8s.io/v1"


def device_class(
    name: str,
    *,
    cel: str | Sequence[str] = (),
    config: Sequence[Mapping[str, Any]] = (),
    extended_resource_name: str | None = None,
) -> dict[str, Any]:
    expressions = [cel] if isinstance(cel, str) else list(cel)
    spec: dict[str, Any] = {"selectors": [{"cel": {"expression": e}} for e in expressions]}
    if config:
        spec["config"] = [dict(c) for c in config]
    if extended_resource_name:
        spec["extendedResourceName"] = extended_resource_name
    return {"apiVersion": RESOURCE_API, "kind": "DeviceClass", "metadata": {"name": name}, "spec": spec}


def opaque(driver: str, parameters: Mapping[str, Any], requests: Sequence[str] = ()) -> dict[str, Any]:
    entry: dict[str, Any] = {"opaque": {"driver": driver, "parameters": dict(parameters)}}
    if requests:
        entry["requests"] = list(requests)
    return entry


def request(
    name: str,
    device_class_name: str,
    *,
    count: int | None = None,
    all_devices: bool = False,
    cel: str | Sequence[str] = (),
    admin_access: bool = False,
    capacity: Mapping[str, str] | None = None,
    tolerations: Sequence[Mapping[str, Any]] = (),
) -> dict[str, Any]:
    exactly: dict[str, Any] = {"deviceClassName": device_class_name}
    if all_devices:
        exactly["allocationMode"] = "All"
    elif count is not None:
        exactly["allocationMode"] = "ExactCount"
        exactly["count"] = count
    expressions = [cel] if isinstance(cel, str) else list(cel)
    if expressions:
        exactly["selectors"] = [{"cel": {"expression": e}} for e in expressions]
    if admin_access:
        exactly["adminAccess"] = True
    if capacity:
        exactly["capacity"] = {"requests": dict(capacity)}
    if tolerations:
        exactly["tolerations"] = [dict(t) for t in tolerations]
    return {"name": name, "exactly": exactly}


def first_available(name: str, *alternatives: Mapping[str, Any]) -> dict[str, Any]:
    """A prioritized list: each alternative is `subrequest(...)`; the first that fits wins."""
    return {"name": name, "firstAvailable": [dict(a) for a in alternatives]}


def subrequest(name: str, device_class_name: str, *, count: int = 1, cel: str | Sequence[str] = ()) -> dict[str, Any]:
    sub: dict[str, Any] = {
        "name": name,
        "deviceClassName": device_class_name,
        "allocationMode": "ExactCount",
        "count": count,
    }
    expressions = [cel] if isinstance(cel, str) else list(cel)
    if expressions:
        sub["selectors"] = [{"cel": {"expression": e}} for e in expressions]
    return sub


def match_attribute(attribute: str, requests: Sequence[str] = ()) -> dict[str, Any]:
    constraint: dict[str, Any] = {"matchAttribute": attribute}
    if requests:
        constraint["requests"] = list(requests)
    return constraint


def distinct_attribute(attribute: str, requests: Sequence[str] = ()) -> dict[str, Any]:
    constraint: dict[str, Any] = {"distinctAttribute": attribute}
    if requests:
        constraint["requests"] = list(requests)
    return constraint


def _claim_spec(
    requests: Sequence[Mapping[str, Any]],
    constraints: Sequence[Mapping[str, Any]],
    config: Sequence[Mapping[str, Any]],
) -> dict[str, Any]:
    devices: dict[str, Any] = {"requests": [dict(r) for r in requests]}
    if constraints:
        devices["constraints"] = [dict(c) for c in constraints]
    if config:
        devices["config"] = [dict(c) for c in config]
    return {"devices": devices}


def claim(
    name: str,
    *requests: Mapping[str, Any],
    constraints: Sequence[Mapping[str, Any]] = (),
    config: Sequence[Mapping[str, Any]] = (),
    namespace: str | None = None,
) -> dict[str, Any]:
    return _resource_object("ResourceClaim", name, namespace, _claim_spec(requests, constraints, config))


def claim_template(
    name: str,
    *requests: Mapping[str, Any],
    constraints: Sequence[Mapping[str, Any]] = (),
    config: Sequence[Mapping[str, Any]] = (),
    namespace: str | None = None,
) -> dict[str, Any]:
    spec = {"spec": _claim_spec(requests, constraints, config)}
    return _resource_object("ResourceClaimTemplate", name, namespace, spec)


def _resource_object(kind: str, name: str, namespace: str | None, spec: dict[str, Any]) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name, **({"namespace": namespace} if namespace else {})}
    return {"apiVersion": RESOURCE_API, "kind": kind, "metadata": metadata, "spec": spec}


def container(
    name: str,
    command: Sequence[str],
    *,
    claims: Sequence[str | tuple[str, str]] = (),
    image: str | None = None,
    env: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """`claims` are pod claim names, or (claim, request) pairs to get only one request's devices."""
    refs = [{"name": c} if isinstance(c, str) else {"name": c[0], "request": c[1]} for c in claims]
    out: dict[str, Any] = {"name": name, "command": list(command)}
    if image:
        out["image"] = image
    if refs:
        out["resources"] = {"claims": refs}
    if env:
        out["env"] = [{"name": k, "value": v} for k, v in env.items()]
    return out


def pod(
    name: str,
    *containers: Mapping[str, Any],
    claims: Mapping[str, str] | None = None,
    templates: Mapping[str, str] | None = None,
    image: str | None = None,
    namespace: str | None = None,
    restart: str = "Never",
    node_name: str | None = None,
    tolerations: Sequence[Mapping[str, Any]] = (),
    node_selector: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """`claims` maps pod claim names to ResourceClaim names; `templates` to ResourceClaimTemplate names.
    `node_name` binds the pod without the scheduler (no claim is allocated then); `node_selector` asks it."""
    resource_claims = [{"name": k, "resourceClaimName": v} for k, v in (claims or {}).items()]
    resource_claims += [{"name": k, "resourceClaimTemplateName": v} for k, v in (templates or {}).items()]
    specs = []
    for c in containers:
        spec = dict(c)
        if image and "image" not in spec:
            spec["image"] = image
        specs.append(spec)
    pod_spec: dict[str, Any] = {
        "restartPolicy": restart,
        "terminationGracePeriodSeconds": 1,
        "containers": specs,
    }
    if resource_claims:
        pod_spec["resourceClaims"] = resource_claims
    if node_name:
        pod_spec["nodeName"] = node_name
    if node_selector:
        pod_spec["nodeSelector"] = dict(node_selector)
    if tolerations:
        pod_spec["tolerations"] = [dict(t) for t in tolerations]
    metadata: dict[str, Any] = {"name": name}
    if namespace:
        metadata["namespace"] = namespace
    return {"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": pod_spec}
