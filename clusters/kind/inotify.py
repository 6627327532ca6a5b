"""Room for a kind cluster's inotify instances.

Every kind node runs systemd, containerd and a kubelet, which together hold about 15-20 inotify instances,
and the kernel's per-user limit (`fs.inotify.max_user_instances`) is 128 on many hosts: a seven-node
cluster takes nearly all of it, and the next node's API server or kubelet fails to start ("too many open
files"). `up` raises the limit only when the nodes it is about to start would not fit, and `down` puts the
old value back once what still runs fits in it.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

LIMIT = Path("/proc/sys/fs/inotify/max_user_instances")
PER_NODE = 24
MARGIN = 32
RAISED_TO_AT_LEAST = 512


class InotifyError(RuntimeError):
    pass


def in_use() -> int:
    """inotify instances open now, across every process (the limit counts per user; drafarm runs as root)."""
    count = 0
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink(f"/proc/{pid}/fd/{fd}") == "anon_inode:inotify":
                    count += 1
            except OSError:
                continue
    return count


def limit() -> int:
    return int(LIMIT.read_text().strip())


def make_room(nodes: int, step: Callable[[str], None]) -> int | None:
    """Raise the limit if `nodes` more kind nodes would not fit; returns the value it had, or None if left."""
    current, used = limit(), in_use()
    needed = used + PER_NODE * nodes + MARGIN
    if current >= needed:
        return None
    raised = max(RAISED_TO_AT_LEAST, needed)
    try:
        LIMIT.write_text(f"{raised}\n")
    except OSError as exc:
        raise InotifyError(
            f"{nodes} kind node(s) need about {PER_NODE * nodes} inotify instances; {used} of the limit {current} "
            f"are in use ({exc}). Raise it as root: sysctl -w fs.inotify.max_user_instances={raised}"
        ) from exc
    step(f"fs.inotify.max_user_instances {current} → {raised} ({used} in use, {nodes} node(s) need about "
         f"{PER_NODE * nodes}); put back by `down`")  # fmt: skip
    return current


def put_back(before: int, step: Callable[[str], None]) -> bool:
    """The old limit again, if what runs now fits in it; whether it was put back."""
    if limit() <= before or in_use() + MARGIN > before:
        return False
    LIMIT.write_text(f"{before}\n")
    step(f"fs.inotify.max_user_instances back to {before}")
    return True
