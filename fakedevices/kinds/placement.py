"""Where a kind's devices sit, and so how a container reaches its session."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from fakedevices.model import Card


@dataclass(frozen=True)
class OnNode:
    """Devices of a node (spec: `nodeGroups[].devices.<kind>`), published in the node's own pool; a
    container reaches its session through a unix socket mounted into it."""


@dataclass(frozen=True)
class OnNetwork:
    """Devices of network pools (spec: `networkPools[]` with `kind: <kind>`) that several nodes reach;
    a container reaches its session at the device's address with a token.

    Each device has its own address in `cidr` (`address` reads it from the card); where a device serves
    on that address it listens on `port`, so it is found there again after a restart.
    """

    cidr: str
    port: int
    address: Callable[[Card], str]


Placement = OnNode | OnNetwork
