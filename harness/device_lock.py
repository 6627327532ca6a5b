"""Who may use a driver's devices now: every suite test shares them, a test that takes them all away
(deleting the driver's slices) holds them alone, so no other test waits on devices that are gone.

A reader-writer lock across the processes of this host (xdist workers, other runs against the same
cluster), one per driver, on `flock`: a writer first takes the turnstile, so tests that start after it
queue behind it instead of starving it.
"""

from __future__ import annotations

import fcntl
import hashlib
import tempfile
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import IO

from clusters.polling import poll

WAIT_S = 600.0


class DeviceLockTimeout(AssertionError):
    pass


def _files(driver: str, kubeconfig: Path) -> tuple[Path, Path]:
    root = Path(tempfile.gettempdir()) / "drafarm-device-locks"
    root.mkdir(parents=True, exist_ok=True)
    key = f"{driver}-{hashlib.sha256(str(kubeconfig.resolve()).encode()).hexdigest()[:12]}"
    return root / f"{key}.turnstile", root / f"{key}.devices"


def _take(handle: IO[bytes], mode: int, what: str, deadline: float, wait: float) -> None:
    def taken() -> bool:
        try:
            fcntl.flock(handle, mode | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    if not poll(taken, max(0.0, deadline - time.monotonic()), 0.1):
        raise DeviceLockTimeout(
            f"waited {wait:.0f}s for {what}: another test process holds the driver's devices "
            f"({handle.name}); is a test that deletes its slices stuck?"
        )


def shared(driver: str, kubeconfig: Path, wait: float | None = None) -> AbstractContextManager[None]:
    """The driver's devices, shared with every other reader."""
    gate = f"the devices of {driver} (a test holds them alone)"
    return _hold(driver, kubeconfig, wait, fcntl.LOCK_SH, gate, f"the devices of {driver}")


def exclusive(driver: str, kubeconfig: Path, wait: float | None = None) -> AbstractContextManager[None]:
    """The driver's devices alone, once every reader is done."""
    gate = f"the turnstile of {driver}'s devices"
    return _hold(driver, kubeconfig, wait, fcntl.LOCK_EX, gate, f"every other test to finish with {driver}'s devices")


@contextmanager
def _hold(driver: str, kubeconfig: Path, wait: float | None, mode: int, gate_what: str, what: str) -> Iterator[None]:
    """Through the turnstile to the devices lock in `mode`: a reader lets the turnstile go as soon as it
    holds the devices, a writer keeps it until it is done, so readers arriving meanwhile queue behind it."""
    turnstile, devices = _files(driver, kubeconfig)
    wait = WAIT_S if wait is None else wait
    deadline = time.monotonic() + wait
    with turnstile.open("ab") as gate, devices.open("ab") as lock:
        _take(gate, fcntl.LOCK_EX, gate_what, deadline, wait)
        try:
            _take(lock, mode, what, deadline, wait)
            if mode == fcntl.LOCK_SH:
                fcntl.flock(gate, fcntl.LOCK_UN)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)
        finally:
            fcntl.flock(gate, fcntl.LOCK_UN)
