"""A kind's emulator config from a card (the fields the emulator needs, read off the card's identity), and back:
the identity fields an emulator shows."""

from __future__ import annotations

from collections.abc import Collection
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


def identity_fields(config: DataclassInstance, *, without: Collection[str] = ()) -> dict[str, Any]:
    """Every field of an emulator's config, in declaration order, except those `without` (what the device's
    `info` answer shows as its identity)."""
    return {field.name: getattr(config, field.name) for field in fields(config) if field.name not in without}
