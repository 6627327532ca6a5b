"""Where network-placed devices serve: each card's own address, the addresses a node must carry for the
pools it reaches, and the networks pods route to."""

from __future__ import annotations

from collections.abc import Iterable

from fakedevices.kinds import registry
from fakedevices.kinds.placement import OnNetwork
from fakedevices.model import Card, Farm


def network_addresses(cards: Iterable[Card]) -> list[tuple[Card, str]]:
    """Each card of a network-placed kind, with its own address (cards of other kinds are left out)."""
    found = []
    for card in cards:
        placement = registry.get(card.kind).placement
        if isinstance(placement, OnNetwork):
            found.append((card, placement.address(card)))
    return found


def addresses_reached_from(farm: Farm, node: str) -> list[str]:
    """The addresses of the devices in the network pools `node` reaches, sorted, each once."""
    cards = (card for pool in farm.pools if node in pool.nodes for card in pool.inventory.cards)
    return sorted({address for _, address in network_addresses(cards)})


def device_networks() -> list[str]:
    """The network (CIDR) of every network-placed kind, each once."""
    networks = (kind.placement.cidr for kind in registry.all_kinds() if isinstance(kind.placement, OnNetwork))
    return list(dict.fromkeys(networks))
