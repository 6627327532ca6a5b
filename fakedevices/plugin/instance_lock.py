"""Which plugin instances serve a state dir: each holds its own lock file for its whole life.

`plugin.lock` for the instance without an ID, `plugin-<ID>.lock` for the others (`PluginLayout.lock_file`).
A second instance with the same ID (or a second without one) is refused; instances with different IDs
run side by side (a rolling upgrade). A lock held is an instance alive: the kernel lets go of it when the
process ends, however it ends, so `live_instances` also sees an instance that crashed as gone.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from pathlib import Path

from fakedevices.plugin.layout import INSTANCE_LOCKS, lock_file_in

PROBE_PATIENCE_S = 0.5
"""How long a start keeps trying a lock that is held: another instance's liveness probe holds it a moment."""


class AlreadyRunning(RuntimeError):
    pass


class InstanceLock:
    """This instance's lock; `release()` (idempotent) lets the others see it gone."""

    def __init__(self, state_dir: Path, instance: str = "") -> None:
        self.path = lock_file_in(state_dir, instance)
        self.instance = instance
        state_dir.mkdir(parents=True, exist_ok=True)
        self._fd: int | None = _acquire(self.path, instance)

    @property
    def held(self) -> bool:
        return self._fd is not None

    def release(self) -> None:
        """Remove the lock file, then let go of it (so a later start never locks a file no one can see)."""
        if self._fd is None:
            return
        if _same_file(self._fd, self.path):
            self.path.unlink(missing_ok=True)
        os.close(self._fd)
        self._fd = None


def live_instances(state_dir: Path) -> set[Path]:
    """The lock files of the instances serving `state_dir` now."""
    return {path for path in state_dir.glob(INSTANCE_LOCKS) if _held(path)}


def _acquire(path: Path, instance: str) -> int:
    deadline = time.monotonic() + PROBE_PATIENCE_S
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            if time.monotonic() < deadline:
                time.sleep(0.02)  # a probe lets go within microseconds; the owner never does
                continue
            raise AlreadyRunning(_refusal(path, instance, holder)) from None
        if not _same_file(fd, path):
            os.close(fd)  # its last holder removed it between our open and lock: lock the new file
            continue
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        return fd


def _refusal(path: Path, instance: str, holder: str) -> str:
    state_dir = path.parent
    if instance:
        return (
            f"plugin instance {instance!r} (pid {holder}) already serves from {state_dir}; give this one another "
            "--instance, or stop that one"
        )
    return (
        f"another plugin (pid {holder}) already serves from {state_dir}; stop it, or start this one beside it with "
        "--instance ID (an upgrade: the same node and farm), or give it its own --state-dir (and a different "
        "driver name, or the two will fight over the same ResourceSlices)"
    )


def _held(path: Path) -> bool:
    """Whether an instance holds `path` (probed without creating it, and let go at once)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def _same_file(fd: int, path: Path) -> bool:
    with contextlib.suppress(FileNotFoundError):
        st, now = os.fstat(fd), os.stat(path)
        return (st.st_dev, st.st_ino) == (now.st_dev, now.st_ino)
    return False
