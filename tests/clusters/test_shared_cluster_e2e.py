"""The run's shared cluster and holds taken inside a test process: a benchmark or a scenario that joins
and leaves the cluster in the process of a test worker must not end that worker's own hold (the last
other worker to leave would then take the cluster down under it, as CI once saw)."""

from __future__ import annotations

import pytest

from clusters import paths, shared
from clusters.local.provider import LocalProvider

pytestmark = pytest.mark.e2e


def test_an_inner_acquire_and_release_keep_the_outer_hold(local_cluster: LocalProvider) -> None:
    root = paths.state_root()
    assert shared.registered(local_cluster, root), "the session fixture holds the cluster"
    shared.acquire(local_cluster, root)
    took_down = shared.release(local_cluster, root)
    assert not took_down
    assert shared.registered(local_cluster, root), "an inner release ended the worker's own hold"
    assert local_cluster.status().running
