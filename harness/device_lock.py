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
from contextlib import contextmanager
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


@contextmanager
def shared(driver: str, kubeconfig: Path, wait: float | None = None) -> Iterator[None]:
    turnstile, devices = _files(driver, kubeconfig)
    wait = WAIT_S if wait is None else wait
    deadline = time.monotonic() + wait
    with turnstile.open("ab") as gate, devices.open("ab") as lock:
        _take(gate, fcntl.LOCK_EX, f"the devices of {driver} (a test holds them alone)", deadline, wait)
        try:
            _take(lock, fcntl.LOCK_SH, f"the devices of {driver}", deadline, wait)
        finally:
            fcntl.flock(gate, fcntl.LOCK_UN)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


@contextmanager
def exclusive(driver: str, kubeconfig: Path, wait: float | None = None) -> Iterator[None]:
    turnstile, devices = _files(driver, kubeconfig)
    wait = WAIT_S if wait is None else wait
    deadline = time.monotonic() + wait
    with turnstile.open("ab") as gate, devices.open("ab") as lock:
        _take(gate, fcntl.LOCK_EX, f"the turnstile of {driver}'s devices", deadline, wait)
        try:
            _take(lock, fcntl.LOCK_EX, f"every other test to finish with {driver}'s devices", deadline, wait)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)
        finally:
            fcntl.flock(gate, fcntl.LOCK_UN)
