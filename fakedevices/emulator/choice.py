"""An enum member from loose text (any case, stray blanks), or an error that lists the allowed values."""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import TypeVar

E = TypeVar("E", bound=enum.Enum)


def parse_choice(
    choices: type[E],
    value: E | str,
    what: str,
    error: type[Exception] = ValueError,
    normalize: Callable[[str], str] = lambda text: text,
) -> E:
    """A member as is; text as the member of that value, compared in lower case after `normalize`."""
    if isinstance(value, choices):
        return value
    try:
        return choices(normalize(str(value).strip().lower()))
    except ValueError:
        allowed = ", ".join(str(member.value) for member in choices)
        raise error(f"{what} {value!r} is not one of: {allowed}") from None
