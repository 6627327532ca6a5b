"""Kubernetes resource quantities: parse "40Gi"/"1.5G"/"500m" to exact numbers and print them back."""

from __future__ import annotations

import functools
import re
from fractions import Fraction

_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_DECIMAL = {"n": Fraction(1, 10**9), "u": Fraction(1, 10**6), "m": Fraction(1, 1000), "": Fraction(1)}
_DECIMAL.update({"k": Fraction(10**3), "M": Fraction(10**6), "G": Fraction(10**9), "T": Fraction(10**12)})
_DECIMAL.update({"P": Fraction(10**15), "E": Fraction(10**18)})
_PATTERN = re.compile(r"^\s*([+-]?(?:\d+\.?\d*|\.\d+))(?:[eE]([+-]?\d+))?([KMGTPE]i|[numkMGTPE]?)\s*$")


# Bounds checked before any arithmetic: "1e20000000" would otherwise take half a minute to compute.
MAX_DIGITS = 40
MAX_EXPONENT = 40
MAX_QUANTITY_CHARS = 100


class QuantityError(ValueError):
    """A string that is not a Kubernetes quantity."""


def parse_quantity(text: str | int) -> Fraction:
    """The exact value of a quantity such as "40Gi", "2", "1.5G" or "500m"."""
    if isinstance(text, bool):
        raise QuantityError(f"{text!r} is not a quantity")
    if isinstance(text, int):
        return Fraction(text)
    if not isinstance(text, str):
        raise QuantityError(f"a {type(text).__name__} is not a quantity (examples: 40Gi, 512Mi, 7)")
    return _parse_text(str(text))


@functools.lru_cache(maxsize=1024)
def _parse_text(text: str) -> Fraction:
    """A prepare parses the same few capacities (a device's, a claim's share) again and again."""
    if len(text) > MAX_QUANTITY_CHARS:
        raise QuantityError(f"{text[:40]!r}... is longer than {MAX_QUANTITY_CHARS} characters: not a quantity")
    match = _PATTERN.match(text)
    if not match:
        raise QuantityError(f"{text[:40]!r} is not a quantity (examples: 40Gi, 512Mi, 7, 100M, 500m)")
    number, exponent, suffix = match.groups()
    if len(number) > MAX_DIGITS or (exponent and abs(int(exponent)) > MAX_EXPONENT):
        raise QuantityError(
            f"{text[:40]!r} is out of range: at most {MAX_DIGITS} digits and an exponent of at most "
            f"{MAX_EXPONENT} (examples: 40Gi, 512Mi, 1e9)"
        )
    value = Fraction(number)
    if exponent:
        value *= Fraction(10) ** int(exponent)
    if suffix in _BINARY:
        return value * _BINARY[suffix]
    return value * _DECIMAL[suffix]


def format_bytes(value: int) -> str:
    """The shortest exact binary-suffixed form of a whole number: 42949672960 -> "40Gi"."""
    for suffix, factor in sorted(_BINARY.items(), key=lambda item: -item[1]):
        if value and value % factor == 0:
            return f"{value // factor}{suffix}"
    return str(value)


def format_decimal(value: int, unit: str = "") -> str:
    """A whole number with a decimal suffix when exact: 100000000 -> "100M"."""
    for suffix in ("E", "P", "T", "G", "M", "k"):
        factor = int(_DECIMAL[suffix])
        if value and value % factor == 0:
            return f"{value // factor}{suffix}{unit}"
    return f"{value}{unit}"
