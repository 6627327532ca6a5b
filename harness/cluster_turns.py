"""Tests that take the cluster away for a moment (an API server or containerd restart) run alone.

Every test that uses a cluster (marked `e2e`, which every suite test is) holds a host-wide lock shared;
a test marked `cluster_exclusive` holds it exclusively, so it starts only once the tests running in the
other workers have ended, and no new one starts until it is done. A waiting exclusive test goes first (it
holds a turnstile that shared holders pass through), so a stream of short tests cannot starve it.
A test process started by a test that already holds its turn (a pytest run inside a test) does not take
another: it inherits the holder's turn through its environment. Turns are per cluster name
($DRAFARM_CLUSTER_NAME): a test marked `own_cluster` brings up a cluster of its own under another name,
takes no turn on the shared one, and the runs inside it take their turns on its cluster."""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Generator, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from harness import rw_lock

EXCLUSIVE_MARK = "cluster_exclusive"
OWN_CLUSTER_MARK = "own_cluster"
HELD_ENV = "DRAFARM_CLUSTER_TURN"
CLUSTER_NAME_ENV = "DRAFARM_CLUSTER_NAME"
WAIT_S = 3600.0


def _lock_files(directory: Path) -> tuple[Path, Path]:
    """The turnstile and lock of the cluster this process tests (one pair per cluster name)."""
    name = re.sub(r"[^a-z0-9-]", "_", os.environ.get(CLUSTER_NAME_ENV, "").lower())[:64]
    stem = f"drafarm-cluster-{name}" if name else "drafarm-cluster"
    return directory / f"{stem}.turnstile", directory / f"{stem}.lock"


@contextmanager
def cluster_turn(exclusive: bool, directory: Path | None = None) -> Iterator[None]:
    """Hold the cluster shared (or alone) while the block runs; a no-op inside a holder's child process."""
    if os.environ.get(HELD_ENV):
        yield
        return
    turnstile, lock = _lock_files(directory or Path(tempfile.gettempdir()))
    with rw_lock.hold(
        turnstile, lock, exclusive=exclusive, wait=WAIT_S,
        gate_what="the cluster's turnstile", what="the cluster to ourselves" if exclusive else "the cluster",
        hint="a test that restarts the cluster's components holds it, or waits for it",
    ):  # fmt: skip
        os.environ[HELD_ENV] = "exclusive" if exclusive else "shared"
        try:
            yield
        finally:
            del os.environ[HELD_ENV]


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item) -> Generator[None, None, None]:
    """Setup, call and teardown (session fixtures included) inside the test's turn."""
    exclusive = item.get_closest_marker(EXCLUSIVE_MARK) is not None
    own_cluster = item.get_closest_marker(OWN_CLUSTER_MARK) is not None
    if own_cluster or (not exclusive and item.get_closest_marker("e2e") is None):
        yield
        return
    with cluster_turn(exclusive):
        yield
