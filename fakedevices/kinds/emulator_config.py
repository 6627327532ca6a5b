"""A kind's emulator config from a card: the fields the emulator needs, read off the card's identity."""

from __future__ import annotations

from dataclasses import fields
from typing import TYPE_CHECKING, Any, TypeVar

from fakedevices.model import Card

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

C = TypeVar("C", bound="DataclassInstance")


def config_from_identity(config_type: type[C], card: Card, **given: Any) -> C:
    """`config_type(name=card.name, ...)`: each other field from the identity field of the same name,
    unless `given` (for a field the identity names otherwise)."""
    values: dict[str, Any] = {"name": card.name, **given}
    for field in fields(config_type):
        if field.name not in values:
            values[field.name] = getattr(card.identity, field.name)
    return config_type(**values)
