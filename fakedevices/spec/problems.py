"""Problems found in user input, each naming the field, the value seen and what is allowed.

Whatever the input, a message stays short: a value is shown in at most 60 characters (read only as far
as that needs, so a deep, cyclic or huge value costs nothing), a line in at most `MAX_LINE_CHARS`, and an
error lists at most `MAX_PROBLEMS_SHOWN` problems.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

MAX_VALUE_CHARS = 60
MAX_LINE_CHARS = 400
MAX_PROBLEMS_SHOWN = 50
_SORTED_KEYS_UP_TO = 64


class _Text(str):
    """Punctuation already rendered."""


def _scalar(value: Any) -> str:
    if isinstance(value, str):
        return json.dumps(value[: MAX_VALUE_CHARS + 1])
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, int):
        if value.bit_length() > 128:
            return f"<an integer of about {int(value.bit_length() * 0.30103)} digits>"
        return str(value)
    if isinstance(value, float):
        return json.dumps(value)
    return json.dumps(str(value)[: MAX_VALUE_CHARS + 1])


def _pieces(value: Any) -> Iterator[Any]:
    if isinstance(value, Mapping):
        yield _Text("{")
        keys: Iterable[Any] = value.keys()
        if len(value) <= _SORTED_KEYS_UP_TO:
            keys = sorted(keys, key=str)
        for i, key in enumerate(keys):
            if i:
                yield _Text(", ")
            yield _Text(_scalar(key if isinstance(key, str) else str(key)) + ": ")
            yield value[key]
        yield _Text("}")
    elif isinstance(value, list | tuple):
        yield _Text("[")
        for i, item in enumerate(value):
            if i:
                yield _Text(", ")
            yield item
        yield _Text("]")
    else:
        yield _Text(_scalar(value))


def show_value(value: Any) -> str:
    if value is _MISSING:
        return "nothing"
    out: list[str] = []
    size = 0
    stack: list[Iterator[Any]] = [_pieces(value)]
    while stack and size <= MAX_VALUE_CHARS:
        piece = next(stack[-1], None)
        if piece is None:
            stack.pop()
        elif isinstance(piece, _Text):
            out.append(piece)
            size += len(piece)
        else:
            stack.append(_pieces(piece))
    text = "".join(out)
    return text if len(text) <= MAX_VALUE_CHARS else text[: MAX_VALUE_CHARS - 3] + "..."


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


_CONTROL = {c: f"\\u{c:04x}" for c in (*range(32), *range(127, 160), 0x2028, 0x2029)}


def one_line(text: str) -> str:
    """Control characters (a newline in a key, say) escaped, so a problem stays on its line."""
    return text.translate(_CONTROL)


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
        line = f"{clip(self.path, 200)}: got {show_value(self.value)}; {clip(self.allowed, MAX_LINE_CHARS)}"
        return clip(one_line(line), MAX_LINE_CHARS)


class SpecError(ValueError):
    """One or more problems in a document; `str()` gives one line per problem."""

    def __init__(self, source: str, problems: Iterable[Problem]) -> None:
        self.source = source
        self.problems = tuple(problems)
        shown = one_line(clip(source, 200))
        lines = [clip(f"{shown}: {p}", MAX_LINE_CHARS) for p in self.problems[:MAX_PROBLEMS_SHOWN]]
        hidden = len(self.problems) - MAX_PROBLEMS_SHOWN
        if hidden > 0:
            lines.append(f"{shown}: ... and {hidden} more problem(s); fix these first")
        super().__init__("\n".join(lines))
