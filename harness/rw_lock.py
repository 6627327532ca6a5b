"""A reader-writer lock across the processes of this host, on `flock`, writers first.

A writer takes the turnstile and keeps it while it waits and works, so readers that arrive after it
queue behind it instead of starving it; a reader passes the turnstile and lets it go as soon as it holds
the lock."""

from __future__ import annotations

import fcntl
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from clusters.polling import poll


class LockTimeout(AssertionError):
    pass


def _take(handle: IO[bytes], mode: int, what: str, deadline: float, wait: float, hint: str) -> None:
    def taken() -> bool:
        try:
            fcntl.flock(handle, mode | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    if not poll(taken, max(0.0, deadline - time.monotonic()), 0.1):
        raise LockTimeout(f"waited {wait:.0f}s for {what}: {hint} ({handle.name})")


@contextmanager
def hold(
    turnstile: Path, lock: Path, *, exclusive: bool, wait: float, gate_what: str, what: str, hint: str
) -> Iterator[None]:
    """`lock` shared (a reader) or alone (a writer) while the block runs; LockTimeout after `wait` seconds."""
    deadline = time.monotonic() + wait
    with turnstile.open("ab") as gate, lock.open("ab") as handle:
        _take(gate, fcntl.LOCK_EX, gate_what, deadline, wait, hint)
        try:
            _take(handle, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH, what, deadline, wait, hint)
            if not exclusive:
                fcntl.flock(gate, fcntl.LOCK_UN)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
        finally:
            fcntl.flock(gate, fcntl.LOCK_UN)
