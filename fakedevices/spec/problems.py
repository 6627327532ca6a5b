"""Problems found in user input, each naming the field, the value seen and what is allowed."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any


def show_value(value: Any) -> str:
    if value is _MISSING:
        return "nothing"
    text = json.dumps(value, default=str, sort_keys=True)
    return text if len(text) <= 60 else text[:57] + "..."


class _Missing:
    def __repr__(self) -> str:
        return "<missing>"

    def __bool__(self) -> bool:
        return False


_MISSING: Any = _Missing()
MISSING: Any = _MISSING


@dataclass(frozen=True)
class Problem:
    path: str
    value: Any
    allowed: str

    def __str__(self) -> str:
        return f"{self.path}: got {show_value(self.value)}; {self.allowed}"


class SpecError(ValueError):
    """One or more problems in a document; `str()` gives one line per problem."""

    def __init__(self, source: str, problems: Iterable[Problem]) -> None:
        self.source = source
        self.problems = tuple(problems)
        super().__init__("\n".join(f"{source}: {p}" for p in self.problems))
