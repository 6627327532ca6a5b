"""The seam every device kind implements: one module per kind, the same shape for all."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from fakedevices.model import Card, Device, Inventory
from fakedevices.spec.reader import Reader

Placement = Literal["node", "network"]


@dataclass(frozen=True)
class BuildContext:
    """Where a kind's devices are being built: a node (or a network pool) of a seeded farm."""

    seed: int
    driver: str
    pool: str
    pool_index: int


@dataclass(frozen=True)
class DeviceNode:
    path: str
    host_path: str
    type: str = "c"
    permissions: str = "rw"

    def to_cdi(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "hostPath": self.host_path,
            "type": self.type,
            "permissions": self.permissions,
        }


@dataclass(frozen=True)
class Mount:
    host_path: str
    container_path: str
    options: tuple[str, ...] = ("rbind", "rw")

    def to_cdi(self) -> dict[str, Any]:
        return {
            "hostPath": self.host_path,
            "containerPath": self.container_path,
            "options": list(self.options),
        }


@dataclass(frozen=True)
class ContainerEdits:
    """CDI containerEdits: what a container gets for one device."""

    env: tuple[str, ...] = ()
    device_nodes: tuple[DeviceNode, ...] = ()
    mounts: tuple[Mount, ...] = ()

    def to_cdi(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.env:
            out["env"] = list(self.env)
        if self.device_nodes:
            out["deviceNodes"] = [d.to_cdi() for d in self.device_nodes]
        if self.mounts:
            out["mounts"] = [m.to_cdi() for m in self.mounts]
        return out


@dataclass(frozen=True)
class DeviceAccess:
    """One prepared device: what the emulator handed out for it, from which the kind derives CDI edits.

    `endpoint` is the emulator's `SessionEndpoint` (a unix socket, or a TCP address and token).
    """

    device: Device
    card: Card
    request: str
    config: Any
    endpoint: Any


@dataclass(frozen=True)
class Allocation:
    """What the scheduler decided for one device of a claim, as the kind needs it to open a session."""

    session_id: str
    request: str
    device: Device
    card: Card
    config: Any
    consumed_capacity: Mapping[str, str]


class DeviceKind(Protocol):
    """One kind of fake device.

    `parse_options` reads the kind's block of the farm spec (including `count`) and reports problems
    into the reader; `build` turns the options into cards, published devices and counter sets;
    `parse_config` validates an opaque configuration (raising `SpecError`); `emulator_config` and
    `open_session` drive the card's emulator; `container_edits` gives the CDI edits for one device.
    """

    name: str
    placement: Placement
    config_kind: str

    def parse_options(self, reader: Reader) -> Any: ...

    def count(self, options: Any) -> int: ...

    def build(self, ctx: BuildContext, options: Any) -> Inventory: ...

    def parse_config(self, parameters: Mapping[str, Any], path: str) -> Any: ...

    def default_config(self) -> Any: ...

    def container_edits(self, access: DeviceAccess) -> ContainerEdits: ...

    def emulator_config(self, card: Card) -> Any: ...

    def open_session(self, emulator: Any, allocation: Allocation) -> Any:
        """Hand the device to a claim on its emulator (limits, sharing, bitstream); idempotent."""
        ...
