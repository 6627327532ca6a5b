"""The one registry of device kinds: the farm spec, the farm, the emulators, the plugin and the
cluster networking look a kind up here, never by importing it.

Kinds come from `BUILTIN` (packages of this folder, in the order a node's devices are built), then from
installed distributions: an entry point in the group `drafarm.device_kinds`, named like the kind, that
points at its `DeviceKind` object (`widget = "widget_kind:KIND"`). `refresh()` looks again, for a
distribution installed while the process runs.
"""

from __future__ import annotations

import functools
import importlib.metadata
from typing import Any

from fakedevices.client.env import KIND_NAME
from fakedevices.kinds import camera, fpga, gpu
from fakedevices.kinds.base import DeviceKind
from fakedevices.kinds.placement import OnNetwork, OnNode

AnyKind = DeviceKind[Any, Any, Any]

ENTRY_POINT_GROUP = "drafarm.device_kinds"
BUILTIN: tuple[AnyKind, ...] = (gpu.KIND, fpga.KIND, camera.KIND)


class KindRegistryError(Exception):
    """A kind that cannot be registered: a bad name, a name or config kind taken, an entry point that fails."""


class UnknownKind(KeyError):
    def __str__(self) -> str:
        return str(self.args[0])


def all_kinds() -> tuple[AnyKind, ...]:
    return tuple(_registered().values())


def names() -> tuple[str, ...]:
    return tuple(_registered())


def node_kinds() -> tuple[str, ...]:
    """Kinds whose devices sit on nodes (`nodeGroups[].devices`)."""
    return tuple(name for name, kind in _registered().items() if isinstance(kind.placement, OnNode))


def network_kinds() -> tuple[str, ...]:
    """Kinds whose devices sit in network pools (`networkPools[].kind`)."""
    return tuple(name for name, kind in _registered().items() if isinstance(kind.placement, OnNetwork))


def find(name: str) -> AnyKind | None:
    return _registered().get(name)


def get(name: str) -> AnyKind:
    found = find(name)
    if found is None:
        raise UnknownKind(f"no device kind {name!r}; known kinds: {', '.join(names())}")
    return found


def for_config(config_kind: str) -> AnyKind | None:
    """The kind whose opaque configs have this `kind:` (GpuConfig, ...)."""
    return next((k for k in _registered().values() if k.config_kind == config_kind), None)


def refresh() -> None:
    """Look for kinds again (after a distribution that adds one was installed, or removed)."""
    _registered.cache_clear()


@functools.cache
def _registered() -> dict[str, AnyKind]:
    found: dict[str, AnyKind] = {}
    for kind in BUILTIN:
        _add(found, kind, f"{__name__}.BUILTIN")
    for entry in sorted(importlib.metadata.entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
        where = f"entry point {entry.name} = {entry.value!r} (group {ENTRY_POINT_GROUP})"
        try:
            kind = entry.load()
        except Exception as exc:
            raise KindRegistryError(f"{where} does not load: {exc}; fix or uninstall the distribution") from exc
        if getattr(kind, "name", None) != entry.name:
            raise KindRegistryError(
                f"{where} gives a kind named {getattr(kind, 'name', None)!r}; name the entry point after its kind"
            )
        _add(found, kind, where)
    return found


def _add(found: dict[str, AnyKind], kind: AnyKind, where: str) -> None:
    if not KIND_NAME.fullmatch(kind.name):
        raise KindRegistryError(
            f"{where}: kind name {kind.name!r} must be a lower-case letter, then at most 19 lower-case letters "
            "or digits (it becomes part of env var names, DRAFARM_<KIND>_..., and of device names)"
        )
    if kind.name in found:
        raise KindRegistryError(f"{where}: kind {kind.name!r} is already registered; give the kind another name")
    taken = next((k.name for k in found.values() if k.config_kind == kind.config_kind), None)
    if taken is not None:
        raise KindRegistryError(
            f"{where}: config kind {kind.config_kind!r} is taken by kind {taken!r}; give the kind one of its own"
        )
    found[kind.name] = kind
