"""A file that exists while this plugin instance is ready: started, and registered by the kubelet (when it
registers at all). What a DaemonSet's readiness probe checks, so that a rolling update stops the old pod
only once the new one is registered and can take its sockets over."""

from __future__ import annotations

import threading
from pathlib import Path

from fakedevices.plugin.atomic import write_atomically
from fakedevices.plugin.background_worker import BackgroundWorker

CHECK_EVERY_S = 0.2


class ReadyFile(BackgroundWorker):
    """Keeps `path` present while `registered` is set (always, with no event), absent otherwise; gone
    once stopped."""

    def __init__(self, path: Path, registered: threading.Event | None) -> None:
        super().__init__("ready-file", stop_timeout_s=2.0)
        self.path = path
        self.registered = registered

    def stop(self, timeout: float | None = None) -> None:
        super().stop(timeout)
        self.path.unlink(missing_ok=True)

    def _run(self) -> None:
        while not self._stopping.is_set():
            ready = self.registered is None or self.registered.is_set()
            if ready and not self.path.exists():
                write_atomically(self.path, b"ready\n")
            elif not ready:
                self.path.unlink(missing_ok=True)
            self._stopping.wait(CHECK_EVERY_S)
