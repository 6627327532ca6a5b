"""Turning a validated farm spec and a seed into the farm: nodes with devices, and network pools."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from fakedevices.farmspec.loader import load_farm_spec, resolve_spec_path
from fakedevices.farmspec.schema import FarmSpec
from fakedevices.kinds import registry
from fakedevices.kinds.base import BuildContext
from fakedevices.model import Farm, Inventory, NetworkPool, Node


@dataclass(frozen=True)
class FarmSource:
    """A farm as the user named it: the spec file (an absolute path, so any process can read it) and the
    farm built from it once."""

    path: Path
    farm: Farm
    rest_virtual: bool = False
    """Farm nodes beyond those a provider runs as real nodes become virtual nodes (`--virtual-nodes`)."""


def open_farm(ref: str | Path, seed: int | None = None, rest_virtual: bool = False) -> FarmSource:
    """Load and build the farm `ref` names (a path, relative to the current directory, or an example
    name); raises `SpecError` before anything else happens when it is missing or invalid."""
    path = resolve_spec_path(ref).resolve()
    return FarmSource(path, build_farm(load_farm_spec(path), seed), rest_virtual)


def build_farm(spec: FarmSpec, seed: int | None = None) -> Farm:
    seed = spec.seed if seed is None else seed
    return Farm(spec.name, seed, spec.driver, tuple(iter_nodes(spec, seed)), build_pools(spec, seed))


def iter_nodes(spec: FarmSpec, seed: int | None = None) -> Iterator[Node]:
    """The farm's nodes one at a time (a 5000-node farm need not be held at once to be shown)."""
    seed = spec.seed if seed is None else seed
    for group in spec.node_groups:
        for index, node_name in enumerate(group.node_names()):
            ctx = BuildContext(seed, spec.driver, node_name, index)
            inventory = Inventory()
            for kind_name, options in group.devices.items():
                inventory += registry.get(kind_name).build(ctx, options)
            labels = {"drafarm.dev/group": group.name, **group.labels}
            yield Node(node_name, group.name, labels, inventory, group.virtual)


def build_pools(spec: FarmSpec, seed: int | None = None) -> tuple[NetworkPool, ...]:
    seed = spec.seed if seed is None else seed
    groups = {g.name: g for g in spec.node_groups}
    pools: list[NetworkPool] = []
    for index, pool in enumerate(spec.network_pools):
        ctx = BuildContext(seed, spec.driver, pool.name, index)
        reachable = tuple(n for g in pool.reachable_from for n in groups[g].node_names())
        pools.append(NetworkPool(pool.name, pool.kind, reachable, registry.get(pool.kind).build(ctx, pool.options)))
    return tuple(pools)
