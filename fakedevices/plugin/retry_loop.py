"""A daemon thread that calls an action every few seconds while something is pending (e.g. sessions a
restore could not open because their device host was down)."""

from __future__ import annotations

import logging
from collections.abc import Callable

from fakedevices.plugin.background_worker import BackgroundWorker

log = logging.getLogger(__name__)


class RetryLoop(BackgroundWorker):
    def __init__(self, name: str, pending: Callable[[], bool], action: Callable[[], object], interval_s: float) -> None:
        super().__init__(name, stop_timeout_s=10.0)
        self.pending = pending
        self.action = action
        self.interval_s = interval_s

    def _run(self) -> None:
        while not self._stopping.wait(self.interval_s):
            try:
                if self.pending():
                    self.action()
            except Exception:  # the next round tries again
                log.exception("%s failed", self.thread_name)
