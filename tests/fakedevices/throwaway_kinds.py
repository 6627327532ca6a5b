"""Two throwaway device kinds for test_a_new_kind.py, which copies this file into a package of its own
outside the tree and registers one of them through an entry point: no file of drafarm names them.

`widget` sits on nodes and is reached over a unix socket; `beacon` sits in network pools (addresses in
127.77.0.0/16, so a test may bind them) and is reached over TCP with a token. Both answer one op of
their own, `hum`, with their color and the session's tone, which comes from their opaque config.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, TypeVar

from fakedevices.emulator.base import Session, SessionEndpoint, reject_unknown_limits
from fakedevices.emulator.errors import SessionError
from fakedevices.emulator.listen import LOOPBACK, Listen
from fakedevices.emulator.network import NetworkEmulator, NetworkSession
from fakedevices.emulator.protocol import Message, ok
from fakedevices.emulator.server import Connection
from fakedevices.emulator.unixsock import SocketSession, UnixSocketEmulator
from fakedevices.identity import IdentityStream
from fakedevices.kinds.base import Allocation, BuildContext, ContainerEdits, DeviceAccess, DeviceKind
from fakedevices.kinds.card_device import card_device
from fakedevices.kinds.emulator_config import config_from_identity
from fakedevices.kinds.opaque import parse_opaque
from fakedevices.kinds.placement import OnNetwork, OnNode
from fakedevices.kinds.session_edits import session_edits
from fakedevices.model import Attribute, Card, Inventory
from fakedevices.spec.reader import Reader

COLORS = ("grey", "red", "blue")
TONES = ("plain", "bright")
OPS = ["info", "health", "ping", "hum"]
BEACON_NETWORK = "127.77.0.0/16"


@dataclass(frozen=True)
class Options:
    count: int
    color: str


@dataclass(frozen=True)
class Config:
    tone: str = "plain"


@dataclass(frozen=True)
class Identity:
    index: int
    serial: str
    color: str
    ip_address: str


@dataclass(frozen=True)
class ThrowawayEmulatorConfig:
    name: str
    serial: str
    color: str


class _Humming:
    """What both throwaway emulators do: an identity, a tone per session, and `hum`."""

    kind: ClassVar[str]
    ops: ClassVar[Sequence[str]] = OPS
    name: str
    config: ThrowawayEmulatorConfig

    def identity(self) -> dict[str, Any]:
        return {"name": self.name, "serial": self.config.serial, "color": self.config.color}

    def _parse_limits(self, limits: Mapping[str, Any]) -> str:
        reject_unknown_limits(self.kind, self.name, limits, {"tone"})
        tone = limits.get("tone", "plain")
        if tone not in TONES:
            raise SessionError(f"{self.kind} {self.name}: tone must be one of {', '.join(TONES)}, got {tone!r}")
        return str(tone)

    def session_op(self, conn: Connection, session: Session, op: str, request: Message) -> Message:
        return ok(color=self.config.color, tone=session.limits)


class WidgetEmulator(_Humming, UnixSocketEmulator[SocketSession]):
    kind = "widget"

    def __init__(self, config: ThrowawayEmulatorConfig, state_dir: Path, listen: Listen = LOOPBACK) -> None:
        super().__init__(config.name, state_dir)
        self.config = config

    def _create_session(self, session_id: str, limits: str) -> SocketSession:
        session = SocketSession(session_id, limits, self._endpoint(session_id))
        self._serve(session)
        return session


class BeaconEmulator(_Humming, NetworkEmulator[NetworkSession]):
    kind = "beacon"

    def __init__(self, config: ThrowawayEmulatorConfig, state_dir: Path, listen: Listen = LOOPBACK) -> None:
        super().__init__(config.name, state_dir, listen)
        self.config = config

    def _create_session(self, session_id: str, limits: str) -> NetworkSession:
        endpoint = self._endpoint(session_id)
        return NetworkSession(session_id, limits, endpoint, token=endpoint.token or "")


E = TypeVar("E", WidgetEmulator, BeaconEmulator)


class _Throwaway(DeviceKind[Options, Config, E]):
    emulator_type: type[E]

    def parse_options(self, reader: Reader) -> Options:
        return Options(reader.integer("count", minimum=1, maximum=8), reader.string("color", "grey", choices=COLORS))

    def build(self, ctx: BuildContext, options: Options) -> Inventory:
        cards, devices = [], []
        for index in range(options.count):
            name = f"{self.name}-{index}" if isinstance(self.placement, OnNode) else f"{ctx.pool}-{self.name}-{index}"
            serial = IdentityStream(ctx.seed, ctx.pool, self.name, str(index)).serial("TWK")
            identity = Identity(index, serial, options.color, f"127.77.{ctx.pool_index + 1}.{10 + index}")
            card = Card(name, self.name, identity)
            cards.append(card)
            colored = {"serial": Attribute.of_string(serial), "color": Attribute.of_string(options.color)}
            devices.append(card_device(card, index, colored, {}))
        return Inventory(tuple(cards), tuple(devices))

    def parse_config(self, parameters: Mapping[str, Any], path: str) -> Config:
        return parse_opaque(
            parameters, path, self.config_kind, lambda r: Config(r.string("tone", "plain", choices=TONES))
        )

    def default_config(self) -> Config:
        return Config()

    def emulator(self, card: Card, state_dir: Path, listen: Listen) -> E:
        return self.emulator_type(config_from_identity(ThrowawayEmulatorConfig, card), state_dir, listen)

    def open_session(self, emulator: E, allocation: Allocation[Config]) -> SessionEndpoint:
        return emulator.open_session(allocation.session_id, tone=allocation.config.tone)

    def container_edits(self, access: DeviceAccess[Config]) -> ContainerEdits:
        identity: Identity = access.card.identity
        return session_edits(self.name, access, {"SERIAL": identity.serial, "COLOR": identity.color})

    def standalone_emulator(self, entry: Mapping[str, Any], state_dir: Path, listen: Listen) -> E:
        return self.emulator_type(ThrowawayEmulatorConfig(**entry), state_dir, listen)


def beacon_address(card: Card) -> str:
    identity: Identity = card.identity
    return identity.ip_address


class Widget(_Throwaway[WidgetEmulator]):
    name = "widget"
    placement = OnNode()
    config_kind = "WidgetConfig"
    emulator_type = WidgetEmulator


class Beacon(_Throwaway[BeaconEmulator]):
    name = "beacon"
    placement = OnNetwork(BEACON_NETWORK, 0, beacon_address)
    config_kind = "BeaconConfig"
    emulator_type = BeaconEmulator


WIDGET = Widget()
BEACON = Beacon()
