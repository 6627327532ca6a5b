"""Waiting on a condition: the one polling loop of drafarm (clusters, harness, tests and benchmarks)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def poll(probe: Callable[[], T], timeout: float, interval: float = 0.1, done: Callable[[T], bool] = bool) -> T:
    """Call `probe` until `done` holds for its value (by default: the value is truthy) or `timeout` seconds
    pass; return the last value. Never sleeps past the deadline. A probe that sees the wait can never end
    well raises."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if done(value):
            return value
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return value
        time.sleep(min(interval, remaining))
