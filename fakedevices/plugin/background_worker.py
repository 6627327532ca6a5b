"""The plugin's background loops (claim watch, orphan sweeps, slice publishing, retries): each runs `_run` on a
named daemon thread from `start` until `stop`, and waits on `_stopping` between its rounds."""

from __future__ import annotations

import abc
import threading


class BackgroundWorker(abc.ABC):
    def __init__(self, thread_name: str, stop_timeout_s: float) -> None:
        self.thread_name = thread_name
        self.stop_timeout_s = stop_timeout_s
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start the loop (again after a `stop`); a no-op while it runs."""
        if self._thread is not None:
            return
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name=self.thread_name, daemon=True)
        self._thread.start()

    def stop(self, timeout: float | None = None) -> None:
        """Ask the loop to end and wait for it (not when called from the loop itself)."""
        self._stopping.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(self.stop_timeout_s if timeout is None else timeout)
        self._thread = None

    @abc.abstractmethod
    def _run(self) -> None:
        """The loop: return once `_stopping` is set."""
