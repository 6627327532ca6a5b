"""Who may use a driver's devices now: every suite test shares them, a test that takes them all away
(deleting the driver's slices) holds them alone, so no other test waits on devices that are gone.

A reader-writer lock (`harness/rw_lock.py`) across the processes of this host (xdist workers, other runs
against the same cluster), one per driver.
"""

from __future__ import annotations

import hashlib
import tempfile
from contextlib import AbstractContextManager
from pathlib import Path

from harness import rw_lock

WAIT_S = 600.0
DeviceLockTimeout = rw_lock.LockTimeout


def _files(driver: str, kubeconfig: Path) -> tuple[Path, Path]:
    root = Path(tempfile.gettempdir()) / "drafarm-device-locks"
    root.mkdir(parents=True, exist_ok=True)
    key = f"{driver}-{hashlib.sha256(str(kubeconfig.resolve()).encode()).hexdigest()[:12]}"
    return root / f"{key}.turnstile", root / f"{key}.devices"


def shared(driver: str, kubeconfig: Path, wait: float | None = None) -> AbstractContextManager[None]:
    """The driver's devices, shared with every other reader."""
    gate = f"the devices of {driver} (a test holds them alone)"
    return _hold(driver, kubeconfig, wait, False, gate, f"the devices of {driver}")


def exclusive(driver: str, kubeconfig: Path, wait: float | None = None) -> AbstractContextManager[None]:
    """The driver's devices alone, once every reader is done."""
    gate = f"the turnstile of {driver}'s devices"
    return _hold(driver, kubeconfig, wait, True, gate, f"every other test to finish with {driver}'s devices")


def _hold(
    driver: str, kubeconfig: Path, wait: float | None, exclusive: bool, gate_what: str, what: str
) -> AbstractContextManager[None]:
    turnstile, devices = _files(driver, kubeconfig)
    hint = "another test process holds the driver's devices; is a test that deletes its slices stuck?"
    return rw_lock.hold(
        turnstile, devices, exclusive=exclusive, wait=WAIT_S if wait is None else wait,
        gate_what=gate_what, what=what, hint=hint,
    )  # fmt: skip
