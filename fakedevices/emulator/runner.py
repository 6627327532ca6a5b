"""The node runner: all emulators of a node in one process, embeddable and thread-safe.

    runner = EmulatorRunner(Path("/run/drafarm/emulators"))
    runner.add(GpuEmulatorConfig(...)); runner.add(CameraEmulatorConfig(...))
    with runner:                                  # start(); ...; stop()
        gpu = runner.get_as("gpu-0", GpuEmulator)
        endpoint = gpu.open_session(claim_uid, sharing="time-sliced", memory_bytes=8 << 30)

A device is given as its emulator, or as its kind's emulator config, which builds the emulator (the
runner knows no kind). Each emulator gets ``<state_dir>/<device name>/``; device names must be unique
on the node. ``stop()`` closes every session and removes every socket. Emulators run in threads of the
calling process.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Protocol, TypeVar

from fakedevices.emulator.base import Emulator
from fakedevices.emulator.errors import EmulatorError
from fakedevices.emulator.listen import LOOPBACK, Listen

E = TypeVar("E", bound=Emulator[Any])


class EmulatorConfig(Protocol):
    """A device's emulator settings (each kind has its own dataclass), able to build the emulator."""

    @property
    def name(self) -> str: ...

    def emulator(self, state_dir: Path, listen: Listen) -> Emulator[Any]: ...


class EmulatorRunner:
    """Owns a set of emulators under one state dir; start, stop, look up, add and remove at any time."""

    def __init__(
        self,
        state_dir: Path,
        configs: Iterable[EmulatorConfig | Emulator[Any]] = (),
        *,
        listen: Listen = LOOPBACK,
    ) -> None:
        """``listen``: where devices served over the network listen when built from a config."""
        self.state_dir = Path(state_dir)
        self.listen = listen
        self._lock = threading.RLock()
        self._emulators: dict[str, Emulator[Any]] = {}
        self._running = False
        for config in configs:
            self.add(config)

    def add(self, item: EmulatorConfig | Emulator[Any]) -> Emulator[Any]:
        """Add a device (started at once if the runner runs); duplicate names are refused."""
        emulator = item if isinstance(item, Emulator) else item.emulator(self.state_dir, self.listen)
        with self._lock:
            if emulator.name in self._emulators:
                raise EmulatorError(
                    f"device name {emulator.name!r} is already in this runner; device names must be unique"
                )
            self._emulators[emulator.name] = emulator
            if self._running:
                emulator.start()
        return emulator

    def remove(self, name: str) -> None:
        """Stop and forget a device; unknown names are ignored."""
        with self._lock:
            emulator = self._emulators.pop(name, None)
        if emulator is not None:
            emulator.stop()

    def get(self, name: str) -> Emulator[Any]:
        with self._lock:
            found = self._emulators.get(name)
        if found is None:
            raise EmulatorError(f"no emulated device {name!r}; known: {', '.join(self.names) or 'none'}")
        return found

    def get_as(self, name: str, cls: type[E]) -> E:
        emulator = self.get(name)
        if not isinstance(emulator, cls):
            raise EmulatorError(f"device {name!r} is a {emulator.kind}, not a {cls.__name__}")
        return emulator

    @property
    def names(self) -> list[str]:
        with self._lock:
            return sorted(self._emulators)

    @property
    def emulators(self) -> list[Emulator[Any]]:
        with self._lock:
            return [self._emulators[n] for n in sorted(self._emulators)]

    @property
    def running(self) -> bool:
        return self._running

    def start(self) -> None:
        """Start every emulator; on a failure the ones started are stopped again."""
        with self._lock:
            if self._running:
                return
            for emulator in self._emulators.values():
                emulator.check_paths()  # before anything is created
            created = not self.state_dir.exists()
            self.state_dir.mkdir(parents=True, exist_ok=True)
            started: list[Emulator[Any]] = []
            try:
                for emulator in self._emulators.values():
                    emulator.start()
                    started.append(emulator)
            except BaseException:
                for emulator in started:
                    emulator.stop()
                if created:
                    _remove_empty_tree(self.state_dir)
                raise
            self._running = True

    def stop(self) -> None:
        """Stop every emulator: sessions closed, sockets removed. Idempotent."""
        with self._lock:
            self._running = False
            emulators = list(self._emulators.values())
        for emulator in emulators:
            emulator.stop()

    def __enter__(self) -> EmulatorRunner:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _remove_empty_tree(root: Path) -> None:
    """Remove ``root`` and the directories under it, as long as they hold no files (what a failed first
    start made, and nothing else)."""
    for directory in sorted((p for p in root.rglob("*") if p.is_dir()), key=lambda p: len(p.parts), reverse=True):
        with contextlib.suppress(OSError):
            directory.rmdir()
    with contextlib.suppress(OSError):
        root.rmdir()
