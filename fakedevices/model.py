"""What the farm is made of, as DRA sees it: devices with attributes, capacity and counters.

These are plain immutable records. `to_api()` methods give the resource.k8s.io/v1 JSON shape, so the
same objects feed `drafarm farm show -o json` and the kubelet plugin's ResourceSlices.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

AttributeType = Literal["int", "bool", "string", "version"]


@dataclass(frozen=True)
class Attribute:
    """One DRA device attribute: exactly one typed value."""

    type: AttributeType
    value: int | bool | str

    @staticmethod
    def of_int(value: int) -> Attribute:
        return Attribute("int", value)

    @staticmethod
    def of_bool(value: bool) -> Attribute:
        return Attribute("bool", value)

    @staticmethod
    def of_string(value: str) -> Attribute:
        return Attribute("string", value)

    @staticmethod
    def of_version(value: str) -> Attribute:
        return Attribute("version", value)

    def to_api(self) -> dict[str, Any]:
        return {self.type: self.value}


@dataclass(frozen=True)
class RequestPolicy:
    """How much of a consumable capacity one allocation takes (DRAConsumableCapacity)."""

    default: str
    minimum: str
    step: str | None = None

    def to_api(self) -> dict[str, Any]:
        valid_range: dict[str, Any] = {"min": self.minimum}
        if self.step is not None:
            valid_range["step"] = self.step
        return {"default": self.default, "validRange": valid_range}


@dataclass(frozen=True)
class Capacity:
    value: str
    request_policy: RequestPolicy | None = None

    def to_api(self) -> dict[str, Any]:
        out: dict[str, Any] = {"value": self.value}
        if self.request_policy is not None:
            out["requestPolicy"] = self.request_policy.to_api()
        return out


@dataclass(frozen=True)
class CounterConsumption:
    counter_set: str
    counters: Mapping[str, str]

    def to_api(self) -> dict[str, Any]:
        return {
            "counterSet": self.counter_set,
            "counters": {k: {"value": v} for k, v in self.counters.items()},
        }


@dataclass(frozen=True)
class CounterSet:
    """Shared counters that partitions of one physical device draw from."""

    name: str
    counters: Mapping[str, str]

    def to_api(self) -> dict[str, Any]:
        return {"name": self.name, "counters": {k: {"value": v} for k, v in self.counters.items()}}


@dataclass(frozen=True)
class Device:
    """A device as published in a ResourceSlice.

    `physical` names the card behind it: partitions of one GPU share it, so the plugin knows which
    emulator serves an allocated partition.
    """

    name: str
    kind: str
    physical: str
    attributes: Mapping[str, Attribute]
    capacity: Mapping[str, Capacity] = field(default_factory=dict)
    consumes_counters: tuple[CounterConsumption, ...] = ()
    allow_multiple_allocations: bool = False

    def to_api(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name,
            "attributes": {k: v.to_api() for k, v in sorted(self.attributes.items())},
        }
        if self.capacity:
            out["capacity"] = {k: v.to_api() for k, v in sorted(self.capacity.items())}
        if self.consumes_counters:
            out["consumesCounters"] = [c.to_api() for c in self.consumes_counters]
        if self.allow_multiple_allocations:
            out["allowMultipleAllocations"] = True
        return out


@dataclass(frozen=True)
class Card:
    """A physical emulated device: what an emulator serves. `identity` is the kind's own record."""

    name: str
    kind: str
    identity: Any


@dataclass(frozen=True)
class Inventory:
    """What one kind contributes to a node or a pool."""

    cards: tuple[Card, ...] = ()
    devices: tuple[Device, ...] = ()
    counter_sets: tuple[CounterSet, ...] = ()

    def __add__(self, other: Inventory) -> Inventory:
        return Inventory(
            self.cards + other.cards,
            self.devices + other.devices,
            self.counter_sets + other.counter_sets,
        )


@dataclass(frozen=True)
class Node:
    name: str
    group: str
    labels: Mapping[str, str]
    inventory: Inventory
    virtual: bool = False
    """No kubelet: a Node object kept Ready by kwok, its devices published by drafarm, never prepared."""

    @property
    def devices(self) -> tuple[Device, ...]:
        return self.inventory.devices


@dataclass(frozen=True)
class NetworkPool:
    """Network-attached devices (cameras) reachable from a set of nodes; one DRA pool for the cluster."""

    name: str
    kind: str
    nodes: tuple[str, ...]
    inventory: Inventory

    @property
    def devices(self) -> tuple[Device, ...]:
        return self.inventory.devices


@dataclass(frozen=True)
class Farm:
    name: str
    seed: int
    driver: str
    nodes: tuple[Node, ...]
    pools: tuple[NetworkPool, ...]

    def node(self, name: str) -> Node:
        for node in self.nodes:
            if node.name == name:
                return node
        known = ", ".join(n.name for n in self.nodes[:5])
        raise KeyError(f"node {name!r} is not in farm {self.name!r} (nodes: {known}...)")

    def bind_nodes(self, names: Mapping[str, str]) -> Farm:
        """The same farm with nodes renamed to the cluster's node names (farm name -> node name).

        Identities stay those of the farm's names, so a farm replays the same on any cluster.
        """
        unknown = sorted(set(names) - {n.name for n in self.nodes})
        if unknown:
            raise KeyError(f"nodes {unknown} are not in farm {self.name!r}")
        nodes = tuple(replace(n, name=names.get(n.name, n.name)) for n in self.nodes)
        pools = tuple(replace(p, nodes=tuple(names.get(n, n) for n in p.nodes)) for p in self.pools)
        return replace(self, nodes=nodes, pools=pools)

    def served_by(self, names: Mapping[str, str]) -> Farm:
        """Bound to the cluster's node names (farm name -> node name, as `bind_nodes`), with each network
        pool reaching only the nodes the cluster serves (those in `names`)."""
        bound = self.bind_nodes(names)
        served = set(names.values())
        pools = tuple(replace(p, nodes=tuple(n for n in p.nodes if n in served)) for p in bound.pools)
        return replace(bound, pools=pools)

    def split(self, real_slots: int, rest_virtual: bool = False) -> tuple[tuple[Node, ...], tuple[Node, ...]]:
        """The nodes a provider with `real_slots` kubelets serves for real, and the virtual ones: every node
        of a virtual group, and with `rest_virtual` every other node beyond the real slots."""
        real = tuple(n for n in self.nodes if not n.virtual)[:real_slots]
        served = {n.name for n in real}
        virtual = tuple(n for n in self.nodes if n.name not in served and (n.virtual or rest_virtual))
        return real, virtual

    def all_devices(self) -> list[tuple[str, Device]]:
        """Every published device with its pool name (the node name, or the network pool's)."""
        out = [(node.name, d) for node in self.nodes for d in node.devices]
        out += [(pool.name, d) for pool in self.pools for d in pool.devices]
        return out
