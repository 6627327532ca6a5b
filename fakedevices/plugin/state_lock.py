"""Orders the changes of a state dir's shared state (checkpoint, CDI specs, emulator session sockets)
among the plugin instances that serve it, and among the threads of each.

A prepare or unprepare holds its claim's lock and the state dir shared: different claims go on at
once, in any instance, while the same claim's steps never interleave. A start (restoring every
checkpointed claim) and a take-over after another instance left hold the state dir alone.

Locks are `flock`s on files in the state dir, taken on a descriptor of their own each time, so they
exclude threads of one process as they exclude processes, and the kernel lets go of them when a
process dies. Claims share 64 lock files by the hash of their UID (a file per claim would have to be
removed again, which no lock file can be safely).
"""

from __future__ import annotations

import fcntl
import os
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

CLAIM_LOCK_FILES = 64


class StateLock:
    def __init__(self, state_file: Path, claim_locks_dir: Path) -> None:
        self.state_file = str(state_file)
        claim_locks_dir.mkdir(parents=True, exist_ok=True)
        self._claim_files = [f"{claim_locks_dir}{os.sep}{n:02d}.lock" for n in range(CLAIM_LOCK_FILES)]

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        """The whole state dir, once every claim operation of every instance is done."""
        fd = _locked(self.state_file, fcntl.LOCK_EX)
        try:
            yield
        finally:
            os.close(fd)

    @contextmanager
    def claim(self, uid: str) -> Iterator[None]:
        """One claim, beside the other claims' operations."""
        shared = _locked(self.state_file, fcntl.LOCK_SH)
        try:
            own = _locked(self._claim_file(uid), fcntl.LOCK_EX)
            try:
                yield
            finally:
                os.close(own)
        finally:
            os.close(shared)

    def _claim_file(self, uid: str) -> str:
        return self._claim_files[zlib.crc32(uid.encode(errors="surrogatepass")) % CLAIM_LOCK_FILES]


def _locked(path: str, operation: int) -> int:
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, operation)
    except BaseException:
        os.close(fd)
        raise
    return fd
