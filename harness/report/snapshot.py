"""A picture-ready snapshot of the farm: which devices exist where, and who holds them.

The snapshot is plain JSON-able data, so a worker can hand it to the controller and `results.json` can
carry it for re-rendering::

    {
      "taken": "2025-01-01T12:00:00+00:00",          # optional, when the snapshot was made
      "nodes": [                                       # node-local pools, one entry per node
        {"name": "node-a",
         "devices": [
           {"name": "gpu-0",                            # device name in its pool
            "kind": "gpu",                              # attribute `kind` (else `type`, else the name's prefix)
            "state": "allocated",                       # free | allocated | shared | unhealthy
            "claims": ["default/claim-1"],              # namespace/name of the claims whose results name it
            "driver": "gpu.drafarm.dev",                # optional extras shown on hover
            "pool": "node-a"}]}],
      "pools": [                                       # network-attached pools (allNodes / nodeSelector)
        {"name": "cameras", "driver": "camera.drafarm.dev", "scope": "all nodes",
         "devices": [ ...same device entries... ]}]
    }

States, in the order they win: `unhealthy` (the health map says so, or the device carries a taint),
`shared` (more than one claim names it, its one claim is reserved for more than one consumer, or it is
a multi-allocation device — `allowMultipleAllocations` / a result with a `shareID` — that is allocated),
`allocated` (exactly one claim names it), `free`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

STATES = ("free", "allocated", "shared", "unhealthy")

HEALTHY_WORDS = frozenset({"", "healthy", "ok", "ready", "true", "up"})

FarmSnapshot = dict[str, Any]


def _get(obj: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(obj, Mapping):
            return None
        obj = obj.get(key)
    return obj


def device_kind(device: Mapping[str, Any]) -> str:
    """A device's kind: its `kind` attribute, else `type`, else its name up to the first digit or dash."""
    attributes = device.get("attributes") or {}
    if isinstance(attributes, Mapping):
        for wanted in ("kind", "type", "deviceType"):
            for key, value in attributes.items():
                if str(key).rsplit("/", 1)[-1] == wanted and isinstance(value, Mapping):
                    for field in ("string", "version", "int", "bool"):
                        if field in value:
                            return str(value[field])
    name = str(device.get("name", ""))
    match = re.match(r"[A-Za-z]+", name)
    return match.group(0).lower() if match else "device"


def _pool_scope(spec: Mapping[str, Any]) -> tuple[str | None, str]:
    """(node name, scope text) of a slice: a node-local slice has a node, a network pool a scope text."""
    node = spec.get("nodeName")
    if node:
        return str(node), f"node {node}"
    if spec.get("allNodes"):
        return None, "all nodes"
    selector = spec.get("nodeSelector")
    if selector:
        return None, "selector " + _selector_text(selector)
    if spec.get("perDeviceNodeSelection"):
        return None, "per-device node selection"
    return None, "unspecified nodes"


def _selector_text(selector: Any) -> str:
    terms = _get(selector, "nodeSelectorTerms") or []
    parts: list[str] = []
    for term in terms if isinstance(terms, list) else []:
        for expr in (term.get("matchExpressions") or []) + (term.get("matchFields") or []):
            values = ",".join(str(v) for v in expr.get("values") or [])
            parts.append(f"{expr.get('key')} {expr.get('operator')} {values}".strip())
    return " or ".join(parts) if parts else "{}"


def _latest_slices(slices: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Only the slices of each pool's newest generation (older ones are on their way out)."""
    newest: dict[tuple[str, str], int] = {}
    items = list(slices)
    for item in items:
        key = (str(_get(item, "spec", "driver")), str(_get(item, "spec", "pool", "name")))
        generation = int(_get(item, "spec", "pool", "generation") or 0)
        newest[key] = max(newest.get(key, generation), generation)
    return [
        item
        for item in items
        if int(_get(item, "spec", "pool", "generation") or 0)
        == newest[(str(_get(item, "spec", "driver")), str(_get(item, "spec", "pool", "name")))]
    ]


def _is_unhealthy(health: Mapping[str, str], driver: str, pool: str, name: str) -> bool:
    for key in (f"{driver}/{pool}/{name}", f"{pool}/{name}", name):
        if key in health:
            return str(health[key]).strip().lower() not in HEALTHY_WORDS
    return False


def snapshot_from_cluster(
    slices: Sequence[Mapping[str, Any]],
    claims: Sequence[Mapping[str, Any]],
    health: Mapping[str, str] | None = None,
    *,
    taken: str | None = None,
) -> FarmSnapshot:
    """The farm snapshot for any driver, from ResourceSlice and ResourceClaim objects (resource.k8s.io/v1).

    `slices` and `claims` are the `items` of `kubectl get resourceslices,resourceclaims -A -o json`.
    `health` maps a device to its health, keyed `driver/pool/device`, `pool/device` or `device`; any value
    other than healthy/ok/ready/true/up (any case, or empty) makes the device unhealthy.
    """
    health = health or {}
    holders: dict[tuple[str, str, str], list[str]] = {}
    share_ids: set[tuple[str, str, str]] = set()
    consumers: dict[str, int] = {}
    for claim in claims:
        ref = f"{_get(claim, 'metadata', 'namespace') or 'default'}/{_get(claim, 'metadata', 'name')}"
        consumers[ref] = len(_get(claim, "status", "reservedFor") or [])
        for result in _get(claim, "status", "allocation", "devices", "results") or []:
            key = (str(result.get("driver")), str(result.get("pool")), str(result.get("device")))
            if ref not in holders.setdefault(key, []):
                holders[key].append(ref)
            if result.get("shareID"):
                share_ids.add(key)

    nodes: dict[str, list[dict[str, Any]]] = {}
    pools: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    for item in _latest_slices(slices):
        spec = item.get("spec") or {}
        driver = str(spec.get("driver", ""))
        pool = str(_get(spec, "pool", "name") or "")
        node, scope = _pool_scope(spec)
        for device in spec.get("devices") or []:
            name = str(device.get("name", ""))
            key = (driver, pool, name)
            held_by = sorted(holders.get(key, []))
            if _is_unhealthy(health, driver, pool, name) or device.get("taints"):
                state = "unhealthy"
            elif held_by and (
                len(held_by) > 1
                or key in share_ids
                or device.get("allowMultipleAllocations")
                or any(consumers.get(ref, 0) > 1 for ref in held_by)
            ):
                state = "shared"
            elif held_by:
                state = "allocated"
            else:
                state = "free"
            entry: dict[str, Any] = {
                "name": name,
                "kind": device_kind(device),
                "state": state,
                "claims": held_by,
                "driver": driver,
                "pool": pool,
            }
            taints = [f"{t.get('key')}={t.get('value', '')}:{t.get('effect')}" for t in device.get("taints") or []]
            if taints:
                entry["taints"] = taints
            device_node = node or device.get("nodeName")
            if device_node:
                nodes.setdefault(str(device_node), []).append(entry)
            else:
                pools.setdefault((pool, driver, scope), []).append(entry)

    def ordered(devices: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return sorted(devices, key=lambda d: (d["kind"], _natural(d["name"]), d["driver"]))

    snapshot: FarmSnapshot = {
        "nodes": [{"name": name, "devices": ordered(devs)} for name, devs in sorted(nodes.items())],
        "pools": [
            {"name": pool, "driver": driver, "scope": scope, "devices": ordered(devs)}
            for (pool, driver, scope), devs in sorted(pools.items())
        ],
    }
    if taken:
        snapshot["taken"] = taken
    return snapshot


def _natural(text: str) -> list[Any]:
    """Sort key so gpu-2 comes before gpu-10."""
    return [(0, int(part)) if part.isdigit() else (1, part) for part in re.split(r"(\d+)", text) if part]


def state_counts(snapshot: Mapping[str, Any]) -> dict[str, int]:
    counts = dict.fromkeys(STATES, 0)
    for group in list(snapshot.get("nodes") or []) + list(snapshot.get("pools") or []):
        for device in group.get("devices") or []:
            state = str(device.get("state", "free"))
            counts[state if state in counts else "free"] += 1
    return counts
