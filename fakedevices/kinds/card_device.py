"""What every kind's devices share: the attributes they start with, and the one device a whole card
publishes."""

from __future__ import annotations

from collections.abc import Mapping

from fakedevices.model import Attribute, Capacity, Card, Device


def device_attributes(kind: str, device_type: str, index: int) -> dict[str, Attribute]:
    """`kind`, `type` (the kind, or a kind's own type such as `partition`) and the card's `index`."""
    return {
        "kind": Attribute.of_string(kind),
        "type": Attribute.of_string(device_type),
        "index": Attribute.of_int(index),
    }


def card_device(
    card: Card,
    index: int,
    attributes: Mapping[str, Attribute],
    capacity: Mapping[str, Capacity],
    *,
    allow_multiple_allocations: bool = False,
) -> Device:
    """The device a card publishes whole: named after the card, of its kind, with the common attributes."""
    return Device(
        name=card.name,
        kind=card.kind,
        physical=card.name,
        attributes={**device_attributes(card.kind, card.kind, index), **attributes},
        capacity=capacity,
        allow_multiple_allocations=allow_multiple_allocations,
    )
