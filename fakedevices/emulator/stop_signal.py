"""The event a standalone emulator process serves until: set by SIGTERM or SIGINT."""

from __future__ import annotations

import signal
import threading


def stop_on_signals() -> threading.Event:
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    return stop
