"""The secret a network device derives its session tokens from, kept in the device's state dir.

Created once (owner-only, atomically: two processes starting at once end with the same key) and read by
every later start, so a token a container holds stays valid across restarts of the emulator's process.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

KEY_FILE = "session.key"
KEY_BYTES = 32


def session_key(device_dir: Path) -> bytes:
    """The device's key, made on first use; ``OSError`` when it cannot be read or written."""
    path = device_dir / KEY_FILE
    try:
        key = path.read_bytes()
    except FileNotFoundError:
        key = b""
    if len(key) == KEY_BYTES:
        return key
    return _create(path)


def _create(path: Path) -> bytes:
    """Write a fresh key beside `path` and link it into place; whoever links first wins, the rest read it."""
    temp = path.with_name(f".{path.name}.{os.getpid()}-{secrets.token_hex(4)}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, secrets.token_bytes(KEY_BYTES))
    finally:
        os.close(fd)
    try:
        with contextlib.suppress(FileExistsError):
            os.link(temp, path)
    finally:
        temp.unlink()
    key = path.read_bytes()
    if len(key) != KEY_BYTES:
        raise OSError(f"session key {path} is {len(key)} bytes, not {KEY_BYTES}; remove it to make a new one")
    return key
