"""Tests that take the cluster away for a moment (an API server or containerd restart) run alone.

Every test that uses a cluster (marked `e2e`, which every suite test is) holds a host-wide lock shared;
a test marked `cluster_exclusive` holds it exclusively, so it starts only once the tests running in the
other workers have ended, and no new one starts until it is done. A waiting exclusive test goes first (it
holds a turnstile that shared holders pass through), so a stream of short tests cannot starve it.
A test process started by a test that already holds its turn (a pytest run inside a test) does not take
another: it inherits the holder's turn through its environment."""

from __future__ import annotations

import fcntl
import os
import tempfile
from collections.abc import Generator, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

EXCLUSIVE_MARK = "cluster_exclusive"
HELD_ENV = "DRAFARM_CLUSTER_TURN"


def lock_dir() -> Path:
    return Path(tempfile.gettempdir())


@contextmanager
def cluster_turn(exclusive: bool, directory: Path | None = None) -> Iterator[None]:
    """Hold the cluster shared (or alone) while the block runs; a no-op inside a holder's child process."""
    if os.environ.get(HELD_ENV):
        yield
        return
    where = directory or lock_dir()
    with (
        (where / "drafarm-cluster-turnstile.lock").open("a") as turnstile,
        (where / "drafarm-cluster.lock").open("a") as turn,
    ):
        fcntl.flock(turnstile, fcntl.LOCK_EX)
        try:
            if not exclusive:
                fcntl.flock(turnstile, fcntl.LOCK_UN)
            fcntl.flock(turn, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        finally:
            if exclusive:
                fcntl.flock(turnstile, fcntl.LOCK_UN)
        os.environ[HELD_ENV] = "exclusive" if exclusive else "shared"
        try:
            yield
        finally:
            del os.environ[HELD_ENV]
            fcntl.flock(turn, fcntl.LOCK_UN)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item) -> Generator[None, None, None]:
    """Setup, call and teardown (session fixtures included) inside the test's turn."""
    exclusive = item.get_closest_marker(EXCLUSIVE_MARK) is not None
    if not exclusive and item.get_closest_marker("e2e") is None:
        yield
        return
    with cluster_turn(exclusive):
        yield
