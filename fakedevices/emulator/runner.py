"""The node runner: all emulators of a node in one process, embeddable and thread-safe.

    runner = EmulatorRunner(Path("/run/drafarm/emulators"))
    runner.add(GpuEmulatorConfig(...)); runner.add(CameraEmulatorConfig(...))
    with runner:                                  # start(); ...; stop()
        gpu = runner.gpu("gpu-0")
        endpoint = gpu.open_session(claim_uid, sharing="time-sliced", memory_bytes=8 << 30)

Each emulator gets ``<state_dir>/<device name>/``; device names must be unique on the node. ``stop()``
closes every session and removes every socket. Emulators run in threads of the calling process.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from fakedevices.emulator.base import Emulator
from fakedevices.emulator.errors import EmulatorError

if TYPE_CHECKING:
    from fakedevices.kinds.camera.emulator import CameraEmulator, CameraEmulatorConfig
    from fakedevices.kinds.fpga.emulator import FpgaEmulator, FpgaEmulatorConfig
    from fakedevices.kinds.gpu.emulator import GpuEmulator, GpuEmulatorConfig

    EmulatorConfig = GpuEmulatorConfig | FpgaEmulatorConfig | CameraEmulatorConfig

E = TypeVar("E", bound=Emulator[Any])


def build_emulator(
    config: EmulatorConfig,
    state_dir: Path,
    *,
    camera_bind_host: str = "127.0.0.1",
    camera_advertise_host: str | None = None,
) -> Emulator[Any]:
    """The emulator for one device config (GPU, FPGA or camera)."""
    from fakedevices.kinds.camera.emulator import CameraEmulator, CameraEmulatorConfig
    from fakedevices.kinds.fpga.emulator import FpgaEmulator, FpgaEmulatorConfig
    from fakedevices.kinds.gpu.emulator import GpuEmulator, GpuEmulatorConfig

    if isinstance(config, GpuEmulatorConfig):
        return GpuEmulator(config, state_dir)
    if isinstance(config, FpgaEmulatorConfig):
        return FpgaEmulator(config, state_dir)
    if isinstance(config, CameraEmulatorConfig):
        return CameraEmulator(config, state_dir, bind_host=camera_bind_host, advertise_host=camera_advertise_host)
    raise EmulatorError(f"no emulator for config type {type(config).__name__}")


class EmulatorRunner:
    """Owns a set of emulators under one state dir; start, stop, look up, add and remove at any time."""

    def __init__(
        self,
        state_dir: Path,
        configs: Iterable[EmulatorConfig | Emulator[Any]] = (),
        *,
        camera_bind_host: str = "127.0.0.1",
        camera_advertise_host: str | None = None,
    ) -> None:
        self.state_dir = Path(state_dir)
        self.camera_bind_host = camera_bind_host
        self.camera_advertise_host = camera_advertise_host
        self._lock = threading.RLock()
        self._emulators: dict[str, Emulator[Any]] = {}
        self._running = False
        for config in configs:
            self.add(config)

    def add(self, item: EmulatorConfig | Emulator[Any]) -> Emulator[Any]:
        """Add a device (started at once if the runner runs); duplicate names are refused."""
        emulator = (
            item
            if isinstance(item, Emulator)
            else build_emulator(
                item,
                self.state_dir,
                camera_bind_host=self.camera_bind_host,
                camera_advertise_host=self.camera_advertise_host,
            )
        )
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

    def gpu(self, name: str) -> GpuEmulator:
        from fakedevices.kinds.gpu.emulator import GpuEmulator

        return self.get_as(name, GpuEmulator)

    def fpga(self, name: str) -> FpgaEmulator:
        from fakedevices.kinds.fpga.emulator import FpgaEmulator

        return self.get_as(name, FpgaEmulator)

    def camera(self, name: str) -> CameraEmulator:
        from fakedevices.kinds.camera.emulator import CameraEmulator

        return self.get_as(name, CameraEmulator)

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
