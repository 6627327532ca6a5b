"""Reads a parsed YAML/JSON mapping field by field, collecting every problem instead of stopping at one."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from fakedevices.spec.problems import MISSING, Problem

T = TypeVar("T")

DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")


class Reader:
    """A view of one mapping at `path`; records problems in a list shared with its children."""

    def __init__(self, data: Any, path: str, problems: list[Problem]) -> None:
        self.path = path
        self.problems = problems
        self._seen: set[str] = set()
        if isinstance(data, Mapping):
            self.data: Mapping[str, Any] = data
            self.valid = True
        else:
            self.data = {}
            self.valid = data is MISSING or data is None
            if not self.valid:
                self.problem(self.path, data, "expected a mapping of fields")

    def problem(self, path: str, value: Any, allowed: str) -> None:
        self.problems.append(Problem(path, value, allowed))

    def at(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def raw(self, key: str) -> Any:
        self._seen.add(key)
        return self.data.get(key, MISSING)

    def has(self, key: str) -> bool:
        return key in self.data

    def child(self, key: str) -> Reader:
        return Reader(self.raw(key), self.at(key), self.problems)

    def items(self, key: str) -> list[Reader]:
        value = self.raw(key)
        if value is MISSING or value is None:
            return []
        if not isinstance(value, list):
            self.problem(self.at(key), value, "expected a list")
            return []
        return [Reader(item, f"{self.at(key)}[{i}]", self.problems) for i, item in enumerate(value)]

    def string(
        self,
        key: str,
        default: str | None = None,
        *,
        pattern: re.Pattern[str] | None = None,
        pattern_help: str = "",
        choices: tuple[str, ...] = (),
        max_length: int | None = None,
    ) -> str:
        value = self.raw(key)
        if value is MISSING:
            if default is None:
                self.problem(self.at(key), value, "this field is required" + _choices(choices))
                return ""
            return default
        if not isinstance(value, str):
            self.problem(self.at(key), value, "expected a string" + _choices(choices))
            return default or ""
        if choices and value not in choices:
            self.problem(self.at(key), value, "allowed: " + ", ".join(choices))
        elif max_length is not None and len(value) > max_length:
            self.problem(self.at(key), value, f"at most {max_length} characters")
        elif pattern is not None and not pattern.match(value):
            self.problem(self.at(key), value, pattern_help or f"must match {pattern.pattern}")
        return value

    def integer(self, key: str, default: int | None = None, *, minimum: int = 0, maximum: int) -> int:
        value = self.raw(key)
        allowed = f"an integer from {minimum} to {maximum}"
        if value is MISSING:
            if default is None:
                self.problem(self.at(key), value, f"this field is required: {allowed}")
                return minimum
            return default
        if isinstance(value, bool) or not isinstance(value, int):
            self.problem(self.at(key), value, f"expected {allowed}")
            return default if default is not None else minimum
        if not minimum <= value <= maximum:
            self.problem(self.at(key), value, f"allowed: {allowed}")
            return max(minimum, min(value, maximum))
        return value

    def number(self, key: str, default: float, *, minimum: float, maximum: float) -> float:
        value = self.raw(key)
        if value is MISSING:
            return default
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.problem(self.at(key), value, f"expected a number from {minimum} to {maximum}")
            return default
        if not minimum <= value <= maximum:
            self.problem(self.at(key), value, f"allowed: a number from {minimum} to {maximum}")
            return default
        return float(value)

    def boolean(self, key: str, default: bool) -> bool:
        value = self.raw(key)
        if value is MISSING:
            return default
        if not isinstance(value, bool):
            self.problem(self.at(key), value, "expected true or false")
            return default
        return value

    def parsed(self, key: str, default: T, parse: Callable[[Any], T], allowed: str) -> T:
        """A field converted by `parse`, which raises ValueError for values outside `allowed`."""
        value = self.raw(key)
        if value is MISSING:
            return default
        try:
            return parse(value)
        except (ValueError, TypeError):
            self.problem(self.at(key), value, allowed)
            return default

    def string_map(self, key: str) -> dict[str, str]:
        value = self.raw(key)
        if value is MISSING or value is None:
            return {}
        if not isinstance(value, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in value.items()
        ):
            self.problem(self.at(key), value, "expected a mapping of strings to strings")
            return {}
        return dict(value)

    def string_list(self, key: str) -> list[str]:
        value = self.raw(key)
        if value is MISSING or value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.problem(self.at(key), value, "expected a list of strings")
            return []
        return list(value)

    def finish(self) -> None:
        """Report fields this document has that nobody read: unknown fields are errors, not ignored."""
        for key in self.data:
            if key not in self._seen:
                known = ", ".join(sorted(self._seen)) or "none"
                self.problem(self.at(str(key)), self.data[key], f"unknown field; known fields here: {known}")


def _choices(choices: tuple[str, ...]) -> str:
    return f" (one of: {', '.join(choices)})" if choices else ""
