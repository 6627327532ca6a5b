"""ResourceSlices for one pool, split at the API's limits and following the pool rules.

Every slice of a pool carries the same generation and the pool's slice count. Counter sets go with the
devices that consume them (1.34), or into slices of their own (1.35+: a slice holds devices or
sharedCounters, not both).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from fakedevices.dra_limits import (
    MAX_COUNTER_SETS_PER_SLICE,
    MAX_DEVICES_PER_SLICE,
    MAX_DEVICES_PER_SLICE_WITH_COUNTERS,
)
from fakedevices.model import CounterSet, Device, Inventory

POOL_LABEL = "drafarm.dev/pool"
HASH_ANNOTATION = "drafarm.dev/content-hash"


HOSTNAME_LABEL = "kubernetes.io/hostname"


@dataclass(frozen=True)
class PoolPlacement:
    """Where a pool's devices are: one node (`node_name`) or the nodes a network pool reaches."""

    node_name: str | None = None
    reachable_nodes: tuple[str, ...] = ()
    node_uid: str | None = None

    def owner_references(self) -> list[dict[str, Any]]:
        """Node-local slices are owned by their Node, so they go when the node goes."""
        if self.node_name is None or self.node_uid is None:
            return []
        return [{"apiVersion": "v1", "kind": "Node", "name": self.node_name, "uid": self.node_uid, "controller": True}]

    def to_spec(self) -> dict[str, Any]:
        if self.node_name is not None:
            return {"nodeName": self.node_name}
        # A slice takes exactly one term, and a node field (metadata.name) one value: the hostname label,
        # which the kubelet sets to the node's name, names them all.
        term = {"matchExpressions": [{"key": HOSTNAME_LABEL, "operator": "In", "values": sorted(self.reachable_nodes)}]}
        return {"nodeSelector": {"nodeSelectorTerms": [term]}}


def slice_name(pool: str, driver: str, index: int) -> str:
    return f"{pool}-{re.sub(r'[^a-z0-9-]', '-', driver)}-{index}"


def _chunks(items: Sequence[Any], size: int) -> list[list[Any]]:
    return [list(items[i : i + size]) for i in range(0, len(items), size)]


def _bodies(inventory: Inventory, counters_separate: bool) -> list[tuple[list[CounterSet], list[Device]]]:
    """(counter sets, devices) per slice."""
    sets = {c.name: c for c in inventory.counter_sets}
    plain = [d for d in inventory.devices if not d.consumes_counters]
    counted = [d for d in inventory.devices if d.consumes_counters]
    bodies: list[tuple[list[CounterSet], list[Device]]] = []
    if counters_separate:
        bodies += [(chunk, []) for chunk in _chunks(list(sets.values()), MAX_COUNTER_SETS_PER_SLICE)]
        bodies += [([], chunk) for chunk in _chunks(counted, MAX_DEVICES_PER_SLICE_WITH_COUNTERS)]
    else:
        groups: dict[str, list[Device]] = {}
        for device in counted:
            groups.setdefault(device.consumes_counters[0].counter_set, []).append(device)
        current: tuple[list[CounterSet], list[Device]] = ([], [])
        for set_name, members in groups.items():
            full = len(current[0]) >= MAX_COUNTER_SETS_PER_SLICE
            if full or len(current[1]) + len(members) > MAX_DEVICES_PER_SLICE_WITH_COUNTERS:
                bodies.append(current)
                current = ([], [])
            current[0].append(sets[set_name])
            current[1].extend(members)
        if current[1]:
            bodies.append(current)
    bodies += [([], chunk) for chunk in _chunks(plain, MAX_DEVICES_PER_SLICE)]
    return bodies or [([], [])]


def build_pool_slices(
    driver: str,
    pool: str,
    inventory: Inventory,
    placement: PoolPlacement,
    generation: int,
    *,
    counters_separate: bool,
) -> list[dict[str, Any]]:
    bodies = _bodies(inventory, counters_separate)
    slices = []
    for index, (counter_sets, devices) in enumerate(bodies):
        spec: dict[str, Any] = {
            "driver": driver,
            "pool": {"name": pool, "generation": generation, "resourceSliceCount": len(bodies)},
            **placement.to_spec(),
        }
        if devices or not counter_sets:
            spec["devices"] = [d.to_api() for d in devices]
        if counter_sets:
            spec["sharedCounters"] = [c.to_api() for c in counter_sets]
        content = {k: v for k, v in spec.items() if k != "pool"}
        slices.append(
            {
                "apiVersion": "resource.k8s.io/v1",
                "kind": "ResourceSlice",
                "metadata": {
                    "name": slice_name(pool, driver, index),
                    "labels": {POOL_LABEL: pool},
                    "annotations": {HASH_ANNOTATION: content_hash(content)},
                    **({"ownerReferences": placement.owner_references()} if placement.owner_references() else {}),
                },
                "spec": spec,
            }
        )
    return slices


def content_hash(content: Any) -> str:
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()[:16]


GATED_FIELDS = {
    "consumesCounters": "DRAPartitionableDevices",
    "sharedCounters": "DRAPartitionableDevices",
    "allowMultipleAllocations": "DRAConsumableCapacity",
    "requestPolicy": "DRAConsumableCapacity",
    "taints": "DRADeviceTaints",
    "bindingConditions": "DRADeviceBindingConditions",
}


def dropped_fields(sent: dict[str, Any], stored: dict[str, Any]) -> dict[str, str]:
    """Fields we sent that the API server did not keep, each with the feature gate that keeps them."""
    missing: dict[str, str] = {}
    sent_spec, stored_spec = sent.get("spec", {}), stored.get("spec", {})
    if "sharedCounters" in sent_spec and "sharedCounters" not in stored_spec:
        missing["sharedCounters"] = GATED_FIELDS["sharedCounters"]
    stored_devices = {d.get("name"): d for d in stored_spec.get("devices") or []}
    for device in sent_spec.get("devices") or []:
        kept = stored_devices.get(device["name"], {})
        for key in ("consumesCounters", "allowMultipleAllocations", "taints", "bindingConditions"):
            if key in device and key not in kept:
                missing[key] = GATED_FIELDS[key]
        for name, capacity in (device.get("capacity") or {}).items():
            if "requestPolicy" in capacity and "requestPolicy" not in (kept.get("capacity") or {}).get(name, {}):
                missing["requestPolicy"] = GATED_FIELDS["requestPolicy"]
    return missing
