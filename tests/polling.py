"""The tests' one way to wait on a condition: poll with a deadline, and fail with what was last seen."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

import pytest

T = TypeVar("T")


def wait_for(probe: Callable[[], T | None], timeout: float, what: str, seen: Callable[[], str]) -> T:
    """Poll `probe` until it returns a truthy value; on timeout fail with what was last seen."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() >= deadline:
            pytest.fail(f"timed out after {timeout:.0f}s waiting for {what}; last seen: {seen()}")
        time.sleep(0.2)  # poll
