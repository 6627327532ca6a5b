"""The devices one node's plugin serves: its own pool and the network pools it can reach."""

from __future__ import annotations

from dataclasses import dataclass

from fakedevices.model import Card, Device, Farm, Inventory, NetworkPool


@dataclass(frozen=True)
class ServedPool:
    name: str
    inventory: Inventory
    network: NetworkPool | None = None


class NodeInventory:
    def __init__(self, farm: Farm, node_name: str) -> None:
        node = farm.node(node_name)
        self.farm = farm
        self.node = node
        self.pools: dict[str, ServedPool] = {node.name: ServedPool(node.name, node.inventory)}
        for pool in farm.pools:
            if node.name in pool.nodes:
                self.pools[pool.name] = ServedPool(pool.name, pool.inventory, pool)
        self._devices = {(p.name, d.name): d for p in self.pools.values() for d in p.inventory.devices}
        self._cards = {(p.name, c.name): c for p in self.pools.values() for c in p.inventory.cards}

    def device(self, pool: str, name: str) -> Device | None:
        return self._devices.get((pool, name))

    def card_of(self, pool: str, device: Device) -> Card:
        return self._cards[(pool, device.physical)]

    def cards(self) -> list[tuple[str, Card]]:
        return [(pool, card) for (pool, _), card in self._cards.items()]

    def devices(self) -> list[tuple[str, Device]]:
        return [(pool, device) for (pool, _), device in self._devices.items()]

    def publishes_network_pool(self, pool: ServedPool) -> bool:
        """Network pools are published once for the cluster: by the first node that reaches them."""
        return pool.network is not None and sorted(pool.network.nodes)[0] == self.node.name
