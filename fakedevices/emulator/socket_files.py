"""Unix socket files that more than one process serves in turn (plugin instances during an upgrade).

A listener is bound at a hidden name beside its path, made to listen, and renamed over the path: the
path never goes missing and never refuses a connection, also while another process's socket is being
replaced (or a dead process's stale one). Which listener a path leads to is told by the file's inode,
known from the hidden name, which no other process binds.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import socket
import stat
from pathlib import Path

from fakedevices.emulator.errors import EmulatorError

# sun_path is 108 bytes on Linux including the terminating NUL.
MAX_UNIX_PATH_BYTES = 107
BACKLOG = 64
FileIdentity = tuple[int, int]


def check_unix_path(path: Path) -> None:
    """``EmulatorError`` when ``path`` is too long for a unix socket (checked before anything is created)."""
    encoded = os.fsencode(path)
    if len(encoded) > MAX_UNIX_PATH_BYTES:
        raise EmulatorError(
            f"unix socket path {str(path)!r} is {len(encoded)} bytes, over the limit of "
            f"{MAX_UNIX_PATH_BYTES}; use a shorter emulator state dir (e.g. /run/drafarm)"
        )


def file_identity(path: Path) -> FileIdentity | None:
    """Which file is at ``path`` now (device and inode), or None when there is none."""
    try:
        st = os.lstat(path)
    except OSError:
        return None
    return st.st_dev, st.st_ino


def served(path: Path) -> bool:
    """Whether a process listens at ``path`` now (a connection is accepted, or queued)."""
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    probe.setblocking(False)
    try:
        probe.connect(str(path))
    except (BlockingIOError, InterruptedError):
        return True  # the listener's queue is full: it is alive
    except OSError:
        return False
    finally:
        probe.close()
    return True


def listen_at(path: Path, mode: int) -> tuple[socket.socket, FileIdentity]:
    """A socket listening at ``path`` with file mode ``mode``, put in place of whatever socket file was
    there in one step; and the identity of its file. ``EmulatorError`` when it cannot be."""
    check_unix_path(path)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        hidden = _bind_beside(listener, path)
        try:
            st = os.lstat(hidden)
            os.chmod(hidden, mode)
            listener.listen(BACKLOG)
            _replace(hidden, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(hidden)
            raise
    except OSError as exc:
        listener.close()
        raise EmulatorError(f"cannot listen on unix socket {str(path)!r}: {exc}") from exc
    return listener, (st.st_dev, st.st_ino)


def _bind_beside(listener: socket.socket, path: Path) -> Path:
    """Bind ``listener`` at a new hidden name in ``path``'s directory (made if missing), no longer than
    ``path``'s own name when it can be, so a path that fits fits hidden too."""
    made = False
    while True:
        hidden = path.with_name("." + secrets.token_hex(8)[: max(len(path.name) - 1, 6)])
        try:
            listener.bind(str(hidden))
            return hidden
        except FileNotFoundError:
            if made:
                raise
            path.parent.mkdir(parents=True, exist_ok=True)
            made = True
        except OSError as exc:
            if exc.errno != errno.EADDRINUSE:  # in use: a name left by a crash, try another
                raise


def _replace(hidden: Path, path: Path) -> None:
    """Rename ``hidden`` over ``path``, which may be a socket file (anyone's) or nothing."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        pass
    else:
        if not stat.S_ISSOCK(st.st_mode):
            raise OSError(errno.EEXIST, "a file that is not a socket is in the way; remove it", str(path))
    os.rename(hidden, path)
