"""A daemon thread that calls an action every few seconds while something is pending (e.g. sessions a
restore could not open because their device host was down)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)


class RetryLoop:
    def __init__(self, name: str, pending: Callable[[], bool], action: Callable[[], object], interval_s: float) -> None:
        self.name = name
        self.pending = pending
        self.action = action
        self.interval_s = interval_s
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stopping.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)
        self._thread = None

    def _run(self) -> None:
        while not self._stopping.wait(self.interval_s):
            try:
                if self.pending():
                    self.action()
            except Exception:  # the next round tries again
                log.exception("%s failed", self.name)
