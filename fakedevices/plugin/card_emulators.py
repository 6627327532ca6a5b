"""The emulator the plugin holds for each card: the kind's, in this process, or for a network-placed
card with `--network-devices remote` a proxy of the device served by a device host
(`fakedevices.remote`), reached at the card's own address."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fakedevices.emulator.base import Emulator
from fakedevices.emulator.listen import LOOPBACK, Listen
from fakedevices.kinds import registry
from fakedevices.kinds.placement import OnNetwork, Placement
from fakedevices.model import Card
from fakedevices.remote.client import HostControl
from fakedevices.remote.ops import CONTROL_PORT
from fakedevices.remote.proxy import DEFAULT_POLL_S, remote_emulator


@dataclass(frozen=True)
class RemoteNetworkDevices:
    """Network-placed devices are served by device hosts: host control at each device's address and
    `control_port`, signed with `key`; health mirrored every `poll_s` seconds."""

    key: bytes
    control_port: int = CONTROL_PORT
    poll_s: float = DEFAULT_POLL_S


def card_emulator(
    card: Card, state_dir: Path, *, own_addresses: bool = False, remote: RemoteNetworkDevices | None = None
) -> Emulator[Any]:
    kind = registry.get(card.kind)
    if remote is not None and isinstance(kind.placement, OnNetwork):
        control = HostControl(kind.placement.address(card), remote.control_port, remote.key)
        return remote_emulator(kind.name, card.name, state_dir, control, remote.poll_s)
    emulator: Emulator[Any] = kind.emulator(card, state_dir, _listen(kind.placement, card, own_addresses))
    return emulator


def _listen(placement: Placement, card: Card, own_address: bool) -> Listen:
    """Where a network-placed card's emulator listens: on its own address at its kind's well-known
    port (so it is found again after a restart), or on loopback at any port."""
    if own_address and isinstance(placement, OnNetwork):
        return Listen(placement.address(card), placement.port)
    return LOOPBACK
