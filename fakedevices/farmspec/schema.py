"""The farm spec: a versioned YAML document describing nodes, their devices and network device pools.

apiVersion: drafarm.dev/v1alpha1
kind: Farm
metadata: {name: small}
spec:
  seed: 42
  driver: drafarm.dev
  nodeGroups:
  - name: worker
    namePattern: "drafarm-worker-{index}"
    count: 1
    labels: {drafarm.dev/group: worker}
    devices:
      gpu: {count: 4, model: df100, partitions: true}
      fpga: {count: 1, family: agilex7}
  networkPools:
  - name: lobby
    kind: camera
    count: 2
    reachableFrom: [worker]
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from fakedevices.dra_limits import MAX_DNS_SUBDOMAIN_LENGTH
from fakedevices.farmspec.name_pattern import name_pattern_problem
from fakedevices.kinds import registry
from fakedevices.spec.document import open_document
from fakedevices.spec.problems import SpecError
from fakedevices.spec.reader import DNS_LABEL, DNS_SUBDOMAIN, Reader

API_VERSION = "drafarm.dev/v1alpha1"
MAX_NODES = 5000
MAX_SEED = 2**63 - 1
POOL_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]{0,48}[a-z0-9])?$")
LABEL_KEY = re.compile(
    r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$"
)
LABEL_VALUE = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$")


@dataclass(frozen=True)
class NodeGroupSpec:
    name: str
    name_pattern: str
    count: int
    labels: Mapping[str, str]
    devices: Mapping[str, Any]
    virtual: bool = False
    """Nodes without a kubelet: Node objects kept Ready by kwok, their slices published by drafarm."""

    def node_names(self) -> list[str]:
        return [self.name_pattern.format(index=i, group=self.name) for i in range(self.count)]


@dataclass(frozen=True)
class NetworkPoolSpec:
    name: str
    kind: str
    reachable_from: tuple[str, ...]
    options: Any


@dataclass(frozen=True)
class FarmSpec:
    name: str
    seed: int
    driver: str
    node_groups: tuple[NodeGroupSpec, ...]
    network_pools: tuple[NetworkPoolSpec, ...] = field(default=())


def parse_farm_spec(document: Any, source: str = "farm spec") -> FarmSpec:
    """Validate a parsed document; raise SpecError with every problem found, one per field."""
    root, metadata = open_document(document, API_VERSION, "Farm")
    name = metadata.string("name", pattern=DNS_LABEL, pattern_help="a DNS label such as small or lab-a")
    metadata.finish()
    spec = root.child("spec")
    if not root.has("spec"):
        root.problem("spec", None, "required: seed, driver, nodeGroups and optionally networkPools")
    seed = spec.integer("seed", 0, minimum=0, maximum=MAX_SEED)
    driver = spec.string(
        "driver",
        "drafarm.dev",
        pattern=DNS_SUBDOMAIN,
        pattern_help="a lowercase DNS subdomain such as drafarm.dev",
        max_length=MAX_DNS_SUBDOMAIN_LENGTH,
    )
    groups = tuple(_node_group(item) for item in spec.items("nodeGroups"))
    if not groups and root.valid and spec.valid:
        spec.problem(spec.at("nodeGroups"), None, "at least one node group is required")
    pools = tuple(_network_pool(item, groups) for item in spec.items("networkPools"))
    spec.finish()
    root.finish()
    _check_names(spec, groups, pools)
    if root.problems:
        raise SpecError(source, root.problems)
    return FarmSpec(name, seed, driver, groups, pools)


def _node_group(r: Reader) -> NodeGroupSpec:
    name = r.string("name", pattern=DNS_LABEL, pattern_help="a DNS label such as gpu-workers")
    pattern = r.string("namePattern", "{group}-{index}")
    count = r.integer("count", 1, minimum=1, maximum=MAX_NODES)
    problem = name_pattern_problem(pattern, name, count)
    if problem is not None:
        r.problem(r.at("namePattern"), pattern, problem)
    labels = r.string_map("labels")
    virtual = r.boolean("virtual", False)
    for key, value in labels.items():
        if not LABEL_KEY.match(key):
            r.problem(r.at(f"labels.{key}"), key, "not a valid label key (e.g. drafarm.dev/group)")
        if not LABEL_VALUE.match(value):
            r.problem(r.at(f"labels.{key}"), value, "not a valid label value (at most 63 of [A-Za-z0-9-_.])")
    devices_reader = r.child("devices")
    devices: dict[str, Any] = {}
    node_kinds = registry.node_kinds()
    for kind in node_kinds:
        if devices_reader.has(kind):
            devices[kind] = registry.get(kind).parse_options(devices_reader.child(kind))
    for kind in registry.network_kinds():
        if devices_reader.has(kind):
            devices_reader.raw(kind)
            devices_reader.problem(
                devices_reader.at(kind),
                devices_reader.data[kind],
                f"{kind}s are network-attached: declare them under spec.networkPools with kind: {kind}",
            )
    for key in devices_reader.data:
        if not isinstance(key, str) or registry.find(key) is None:
            devices_reader.raw(key)
            devices_reader.problem(
                devices_reader.at(str(key)), key, "unknown device kind; known kinds: " + ", ".join(node_kinds)
            )
    devices_reader.finish()
    r.finish()
    return NodeGroupSpec(name, pattern, count, labels, devices, virtual)


def _network_pool(r: Reader, groups: tuple[NodeGroupSpec, ...]) -> NetworkPoolSpec:
    name = r.string("name", pattern=POOL_NAME, pattern_help="a DNS label of at most 50 characters")
    kind = r.string("kind", choices=registry.network_kinds())
    known = [g.name for g in groups]
    reachable = r.string_list("reachableFrom") or known
    for i, group in enumerate(reachable):
        if group not in known:
            r.problem(r.at(f"reachableFrom[{i}]"), group, "not a node group; known: " + ", ".join(known))
    found = registry.find(kind)
    options = found.parse_options(r) if found is not None else None
    r.finish()
    return NetworkPoolSpec(name, kind, tuple(reachable), options)


def _check_names(r: Reader, groups: tuple[NodeGroupSpec, ...], pools: tuple[NetworkPoolSpec, ...]) -> None:
    group_names: set[str] = set()
    for i, group in enumerate(groups):
        if group.name in group_names:
            r.problem(f"spec.nodeGroups[{i}].name", group.name, "duplicate node group name")
        group_names.add(group.name)
    total = sum(g.count for g in groups)
    if total > MAX_NODES:
        r.problem("spec.nodeGroups", f"{total} nodes", f"at most {MAX_NODES} nodes in one farm")
        return
    owner: dict[str, str] = {}
    for i, group in enumerate(groups):
        if name_pattern_problem(group.name_pattern, group.name, group.count) is not None:
            continue
        names = group.node_names()
        for node in names:
            if node in owner:
                r.problem(
                    f"spec.nodeGroups[{i}].namePattern",
                    group.name_pattern,
                    f"gives node {node!r}, already a node of group {owner[node]!r}: make the patterns differ",
                )
                break
            owner[node] = group.name
    pool_names: set[str] = set()
    for i, pool in enumerate(pools):
        if pool.name in pool_names or pool.name in owner:
            r.problem(
                f"spec.networkPools[{i}].name",
                pool.name,
                "duplicate: pool names must differ from each other and from node names (each is a DRA pool)",
            )
        pool_names.add(pool.name)
