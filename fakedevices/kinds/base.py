"""The seam every device kind implements: one package per kind, the same typed protocol for all."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar

from fakedevices.emulator.base import Emulator, SessionEndpoint
from fakedevices.emulator.listen import Listen
from fakedevices.kinds.placement import Placement
from fakedevices.model import Card, Device, Inventory
from fakedevices.spec.reader import Reader

OptionsT = TypeVar("OptionsT")
ConfigT = TypeVar("ConfigT")
EmulatorT = TypeVar("EmulatorT", bound=Emulator[Any])


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
class DeviceAccess(Generic[ConfigT]):
    """One prepared device: what the emulator handed out for it, from which the kind derives CDI edits."""

    device: Device
    card: Card
    request: str
    config: ConfigT
    endpoint: SessionEndpoint


@dataclass(frozen=True)
class Allocation(Generic[ConfigT]):
    """What the scheduler decided for one device of a claim, as the kind needs it to open a session."""

    session_id: str
    request: str
    device: Device
    card: Card
    config: ConfigT
    consumed_capacity: Mapping[str, str]


class DeviceKind(Protocol[OptionsT, ConfigT, EmulatorT]):
    """One kind of fake device, typed by its farm-spec options, its opaque config and its emulator.

    `name` is the kind's word in the farm spec, in device attributes and in env var names (a lower-case
    letter, then lower-case letters and digits). `placement` says where its devices sit and how a
    container reaches them. A kind subclasses this protocol (mypy then checks it against it, and it
    inherits `standalone_session`) and registers in fakedevices.kinds.registry.
    """

    name: str
    placement: Placement
    config_kind: str

    def parse_options(self, reader: Reader) -> OptionsT:
        """The kind's block of the farm spec (including `count`); problems go into the reader."""
        ...

    def build(self, ctx: BuildContext, options: OptionsT) -> Inventory:
        """Cards, published devices and counter sets, from the options and the seeded context."""
        ...

    def parse_config(self, parameters: Mapping[str, Any], path: str) -> ConfigT:
        """An opaque configuration (claim or class `config[].opaque.parameters`); `SpecError` if bad."""
        ...

    def default_config(self) -> ConfigT:
        """The config of a request that gives none."""
        ...

    def emulator(self, card: Card, state_dir: Path, listen: Listen) -> EmulatorT:
        """The card's emulator (a network-placed one listens where `listen` says)."""
        ...

    def open_session(self, emulator: EmulatorT, allocation: Allocation[ConfigT]) -> SessionEndpoint:
        """Hand the device to a claim on its emulator (limits, sharing, bitstream); idempotent."""
        ...

    def container_edits(self, access: DeviceAccess[ConfigT]) -> ContainerEdits:
        """The CDI edits for one prepared device."""
        ...

    def standalone_emulator(self, entry: Mapping[str, Any], state_dir: Path, listen: Listen) -> EmulatorT:
        """`python -m fakedevices.emulator`: the emulator of one entry of its devices file."""
        ...

    def standalone_session(self, emulator: EmulatorT, session_id: str, entry: Mapping[str, Any]) -> SessionEndpoint:
        """`python -m fakedevices.emulator --session`: a session on the entry's device, default limits."""
        return emulator.open_session(session_id)
