"""Processes by PID: the one "is it alive" check and the one way to stop a process every part of drafarm
uses (a zombie counts as gone)."""

from __future__ import annotations

import contextlib
import os
import signal
from pathlib import Path

from clusters.polling import poll


def alive(pid: int) -> bool:
    """True while `pid` exists and is not a zombie."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def reap(pid: int) -> None:
    """Collect `pid`'s exit status if it is our child (else a no-op)."""
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def _reaped_and_gone(pid: int) -> bool:
    reap(pid)
    return not alive(pid)


def stop(pid: int, timeout: float = 10.0, kill_after: float = 5.0) -> bool:
    """SIGTERM `pid` (that process only, never its group), SIGKILL it after `timeout`, wait `kill_after`
    more; True when it is gone."""
    for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, kill_after)):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            reap(pid)
            return True
        if poll(lambda: _reaped_and_gone(pid), wait, 0.05):
            return True
    return not alive(pid)
