"""Health tests change plugin-wide state (device health, prepare faults, restarts, taints on gpu-2): one
at a time across all xdist workers of every run on this host, so they never undo each other's faults."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from harness.environment import DraEnvironment
from harness.farm_lock import farm_exclusive as exclusive


@pytest.fixture
def farm_exclusive(dra_env: DraEnvironment) -> Iterator[None]:
    with exclusive(dra_env.kube.kubeconfig):
        yield
