"""One cluster shared by every test process of a run (pytest-xdist workers included).

Each process `acquire`s the cluster: under a file lock, the first brings it up (a no-op if it already
runs) and every process registers itself. `release` unregisters; the last process out takes the
cluster down, but only if a test process brought it up (a cluster a developer started stays up).
A process may hold the cluster more than once (a session fixture, and a benchmark or scenario run
in the same process): each `acquire` adds a hold and each `release` removes one, so an inner release
never lets another process take the cluster down under the outer holder.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from filelock import FileLock

from clusters.pids import alive
from clusters.provider import ClusterProvider
from fakedevices.plugin.atomic import write_atomically

LOCK_TIMEOUT_S = 3 * 3600.0  # the first `up` on a fresh machine builds the toolchain


def cluster_lock(provider: ClusterProvider, root: Path) -> FileLock:
    """The lock test processes take to join or leave the cluster (the benchmark holds it throughout)."""
    return _paths(provider, root)[0]


def live_users(provider: ClusterProvider, root: Path) -> list[int]:
    """PIDs of test processes (other than this one) that use the cluster now."""
    return sorted({u for u in _live_users(_read(_paths(provider, root)[1])) if u != os.getpid()})


def _paths(provider: ClusterProvider, root: Path) -> tuple[FileLock, Path]:
    root.mkdir(parents=True, exist_ok=True)
    name = provider.status().name
    return FileLock(str(root / f"{name}.lock"), timeout=LOCK_TIMEOUT_S), root / f"{name}.users.json"


def _read(path: Path) -> dict[str, object]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {"users": [], "owned": False}
    return data if isinstance(data, dict) else {"users": [], "owned": False}


def _write(path: Path, data: dict[str, object]) -> None:
    """Atomically: `registered` and `live_users` read without the lock."""
    write_atomically(path, json.dumps(data).encode())


def _live_users(data: dict[str, object]) -> list[int]:
    users = data.get("users", [])
    return [u for u in users if isinstance(u, int) and alive(u)] if isinstance(users, list) else []


def registered(provider: ClusterProvider, root: Path) -> bool:
    """Whether this process already uses the cluster (so it must not acquire or release it again)."""
    return os.getpid() in _live_users(_read(_paths(provider, root)[1]))


def acquire(provider: ClusterProvider, root: Path, keep: bool = False) -> None:
    """Join the cluster, bringing it up if needed; `keep` leaves it up when the last user leaves."""
    lock, users_file = _paths(provider, root)
    with lock:
        data = _read(users_file)
        users = _live_users(data)
        # Ownership passes between test processes only while one of them still uses the cluster; a
        # cluster found running with no test users was started by someone else and stays up.
        owned = bool(data.get("owned")) and bool(users)
        if not provider.status().running:
            provider.up()
            owned = True
        users.append(os.getpid())
        keep = keep or (bool(data.get("keep")) and len(users) > 1)
        _write(users_file, {"users": sorted(users), "owned": owned, "keep": keep})


def release(provider: ClusterProvider, root: Path) -> bool:
    """Unregister this process; True if it was the last one and took the cluster down."""
    lock, users_file = _paths(provider, root)
    with lock:
        data = _read(users_file)
        users = _live_users(data)
        if os.getpid() in users:
            users.remove(os.getpid())  # one hold
        owned = bool(data.get("owned"))
        keep = bool(data.get("keep"))
        _write(users_file, {"users": users, "owned": owned, "keep": keep})
        if users or not owned or keep:
            return False
        provider.down()
        return True
