"""Hypothesis strategies for what a user or a peer may send: JSON-like values of every shape."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=30)
    | st.sampled_from(["", "0", "-1", "40Gi", "1e20000000", "{index}", "true", "df100", "\x00", "é" * 5])
)

JSON_LIKE: st.SearchStrategy[Any] = st.recursive(
    SCALARS,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=12,
)

# Keys of mixed types, as YAML allows (`1: a`, `true: b`, `null: c`).
ODD_KEYS = st.none() | st.booleans() | st.integers(-3, 3) | st.text(max_size=8)
