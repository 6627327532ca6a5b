"""One farm-wide change at a time (device health, prepare faults, plugin restarts) across every test
process on this host that uses the same cluster, so no test undoes another's fault."""

from __future__ import annotations

import fcntl
import hashlib
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def farm_exclusive(kubeconfig: Path) -> Iterator[None]:
    key = hashlib.sha256(str(kubeconfig.resolve()).encode()).hexdigest()[:12]
    path = Path(tempfile.gettempdir()) / f"drafarm-health-{key}.lock"
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)  # blocks until the other process's farm-wide change ends
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
