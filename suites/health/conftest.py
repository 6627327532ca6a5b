"""Health tests change plugin-wide state (device health, prepare faults, restarts, taints on gpu-2): one
at a time across all xdist workers of every run on this host, so they never undo each other's faults."""

from __future__ import annotations

import fcntl
import hashlib
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.environment import DraEnvironment


@pytest.fixture
def farm_exclusive(dra_env: DraEnvironment) -> Iterator[None]:
    key = hashlib.sha256(str(dra_env.kube.kubeconfig.resolve()).encode()).hexdigest()[:12]
    path = Path(tempfile.gettempdir()) / f"drafarm-health-{key}.lock"
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)  # blocks until the other worker's health test ends
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
