"""Progress of a toolchain build as lines a person can follow: what is building, for how long, where its
log is, and roughly how long the rest takes (typical figures on 2 cores; a cached binary costs nothing)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from clusters.toolchain import builder, components
from clusters.toolchain.versions import ToolPins

HEARTBEAT_S = 30.0
TYPICAL_MODULE_S = {"kubernetes": 660.0, "etcd": 120.0, "containerd": 200.0, "cni-plugins": 90.0, "crictl": 40.0}
DEFAULT_MODULE_S = 120.0


class BuildProgress:
    """A `builder.Reporter` that prints a line per step and, while a binary builds, one every 30 s."""

    def __init__(
        self, pins: ToolPins, say: Callable[[str], None], names: tuple[str, ...] = components.CLUSTER_MODULES
    ) -> None:
        self.say = say
        self.modules = {m.key: m for m in components.modules(pins, names)}
        self._left = {key: TYPICAL_MODULE_S.get(m.name, DEFAULT_MODULE_S) for key, m in self.modules.items()}
        self._current: tuple[str, str, float] | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._heartbeat, name="build-progress", daemon=True)

    def __enter__(self) -> BuildProgress:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def __call__(self, module: str, binary: str, phase: str) -> None:
        if phase == "building":
            self.building(module, binary)
            return
        with self._lock:
            if phase == "start":
                return
            if phase == "cached":
                self._done(module, binary)
                return
            if self._current is None or self._current[:2] != (module, binary):
                self._current = (module, binary, time.monotonic())
            elapsed = time.monotonic() - self._current[2]
            self._done(module, binary)
            self._current = None
            self.say(f"{module}/{binary}: {phase} in {_fmt(elapsed)} (log {self._log(module)}){self._rest()}")

    def building(self, module: str, binary: str) -> None:
        """Called as a binary's build begins (the builder's "start" also fires for cached binaries)."""
        with self._lock:
            self._current = (module, binary, time.monotonic())
            self.say(f"building {module}/{binary} (log {self._log(module)}){self._rest()}")

    def _done(self, module: str, binary: str) -> None:
        mod = self.modules.get(module)
        if mod is not None and mod.binaries and mod.binaries[-1].name == binary:
            self._left[module] = 0.0

    def _rest(self) -> str:
        left = sum(self._left.values())
        return f"; about {_fmt(left)} left for the rest (typical on 2 cores)" if left else ""

    def _log(self, module: str) -> str:
        mod = self.modules.get(module)
        return str(builder.log_path(mod)) if mod is not None else "?"

    def _heartbeat(self) -> None:
        while not self._stop.wait(HEARTBEAT_S):
            with self._lock:
                if self._current is not None:
                    module, binary, started = self._current
                    self.say(f"still building {module}/{binary}: {_fmt(time.monotonic() - started)} so far")


def _fmt(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"
