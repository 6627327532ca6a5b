"""Follows the other instances of this node's plugin that serve the same state dir (a rolling upgrade).

While any other runs, this one keeps its emulator sessions equal to the checkpoint they share (`sync`,
every second), so whichever instance stays serves every prepared claim. When one leaves (its instance
lock is let go: a clean stop, a crash or a kill alike), this one takes over what it served (`take_over`),
within a fifth of a second. So it does when none runs but its sockets were taken (`taken`): an instance
that started, took them and died between two looks.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path

from fakedevices.plugin.instance_lock import live_instances

log = logging.getLogger(__name__)
POLL_S = 0.2
SYNC_S = 1.0


class PeerWatch:
    def __init__(
        self,
        state_dir: Path,
        own_lock: Path,
        *,
        take_over: Callable[[], object],
        sync: Callable[[], object],
        taken: Callable[[], bool],
        poll_s: float = POLL_S,
        sync_s: float = SYNC_S,
    ) -> None:
        self.state_dir = state_dir
        self.own_lock = own_lock
        self.take_over = take_over
        self.sync = sync
        self.taken = taken
        self.poll_s = poll_s
        self.sync_s = sync_s
        self._known: set[Path] = set()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def peers(self) -> set[Path]:
        """The lock files of the other instances serving the state dir now."""
        return live_instances(self.state_dir) - {self.own_lock}

    def start(self) -> None:
        self._known = self.peers()
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name="plugin-peers", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        synced = time.monotonic()
        while not self._stopping.wait(self.poll_s):
            try:
                synced = self.check(synced)
            except Exception:  # a bug here must not end the watch; the next round tries again
                log.exception("following the other plugin instances failed")

    def check(self, synced: float) -> float:
        """One round: take over after an instance left, else sync when one runs and a sync is due; when
        the last sync was."""
        now = self.peers()
        left = self._known - now
        if left or (not now and self.taken()):
            gone = (
                f"the instance of {', '.join(p.name for p in sorted(left))}"
                if left
                else "an instance that took sockets"
            )
            log.info("%s left the state dir; taking over what it served", gone)
            self.take_over()  # if it fails, the next round tries again
            self._known = now
            return time.monotonic()
        self._known = now
        if now and time.monotonic() - synced >= self.sync_s:
            self.sync()
            return time.monotonic()
        return synced
