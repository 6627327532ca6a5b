"""The tests' one way to wait on a condition: the one polling loop (clusters/polling.py), failing the test
with what was last seen."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import pytest

from clusters.polling import poll

T = TypeVar("T")


def wait_for(
    probe: Callable[[], T | None], timeout: float, what: str, seen: Callable[[], str], interval: float = 0.2
) -> T:
    """Poll `probe` until it returns a truthy value; on timeout fail with what was last seen."""
    value = poll(probe, timeout, interval)
    if not value:
        pytest.fail(f"timed out after {timeout:.0f}s waiting for {what}; last seen: {seen()}")
    return value
