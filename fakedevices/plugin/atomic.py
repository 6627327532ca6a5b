"""Crash-safe file writes: a reader sees the old content or the new, never a torn file.

Temp file + rename, not fsynced: safe when the writing process dies at any point (the page cache
outlives it), not against power loss. Everything the plugin writes this way is runtime state that a
reboot ends anyway (CDI specs in /var/run/cdi, the checkpoint of emulator sessions).
"""

from __future__ import annotations

import contextlib
import itertools
import os
import threading
from pathlib import Path

_serial = itertools.count()
_pid = os.getpid()


def _forked() -> None:
    global _pid
    _pid = os.getpid()


os.register_at_fork(after_in_child=_forked)


def write_atomically(path: str | Path, data: bytes, mode: int = 0o644) -> None:
    directory, name = os.path.split(path)
    tmp = f"{directory}{os.sep}.{name}.{_pid}-{threading.get_ident()}-{next(_serial)}.tmp"
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC
    try:
        fd = os.open(tmp, flags, 0o600)
    except FileNotFoundError:
        os.makedirs(directory, exist_ok=True)
        fd = os.open(tmp, flags, 0o600)
    try:
        try:
            if mode != 0o600:
                os.fchmod(fd, mode)
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def remove_stale_temporaries(directory: Path, name: str = "*") -> None:
    """Temp files a crash left behind next to `name` (a glob; default: any file in `directory`)."""
    for leftover in directory.glob(f".{name}.*.tmp"):
        leftover.unlink(missing_ok=True)
