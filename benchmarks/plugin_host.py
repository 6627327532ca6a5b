"""A node's DRA plugin in its own process, serving benchmark claims, driven over stdin.

    python -m benchmarks.plugin_host --root /tmp/dfb-x --farm large --node gpu-node-0

Builds the farm, the node's `NodeDriver` (with `SyntheticClaims` instead of an API server) and the
`PluginServer` with its real sockets under ROOT, prints one JSON line `{"ready": ...}` and then answers
commands, one per line on stdin, with one JSON line each:

    stats     driver-side prepare/unprepare durations since the last `stats` (then cleared), and RSS
    stop      (or EOF, or SIGTERM) deregister, stop serving and exit

With --profile FILE every driver prepare/unprepare runs under cProfile (one profiler per gRPC worker
thread, so concurrent calls stay concurrent) and the merged stats are dumped to FILE on stop.
"""

from __future__ import annotations

import cProfile
import json
import pstats
import signal
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from benchmarks.claims import SyntheticClaims
from benchmarks.command_line import bench_parser
from benchmarks.procfs import memory_status
from fakedevices.plugin.layout import PluginLayout

T = TypeVar("T")


BUILT_IN_DRIVER = "drafarm.dev"
"""The driver of the built-in farms the benchmarks serve."""


def host_layout(root: Path, driver: str = BUILT_IN_DRIVER) -> PluginLayout:
    """Short paths under ROOT: unix socket paths must stay under 108 bytes."""
    return PluginLayout(driver, state_dir=root / "s", kubelet_root=root / "k", cdi_dir=root / "c")


class Timed:
    """Wraps the driver's prepare/unprepare: records how long each call took inside the driver, and
    with `profile_to` runs each call under its thread's own cProfile profiler (merged on dump)."""

    def __init__(self, profile_to: Path | None) -> None:
        self.samples: dict[str, list[float]] = {"prepare": [], "unprepare": []}
        self.profile_to = profile_to
        self._local = threading.local()
        self._profilers: list[cProfile.Profile] = []
        self._lock = threading.Lock()

    def _profiler(self) -> cProfile.Profile:
        profiler: cProfile.Profile | None = getattr(self._local, "profiler", None)
        if profiler is None:
            profiler = self._local.profiler = cProfile.Profile()
            with self._lock:
                self._profilers.append(profiler)
        return profiler

    def wrap(self, name: str, call: Callable[..., T]) -> Callable[..., T]:
        samples = self.samples[name]

        def timed(*args: Any) -> T:
            started = time.perf_counter()
            result = self._profiler().runcall(call, *args) if self.profile_to else call(*args)
            samples.append(time.perf_counter() - started)
            return result

        return timed

    def take(self) -> dict[str, list[float]]:
        out = {name: list(values) for name, values in self.samples.items()}
        for values in self.samples.values():
            values.clear()
        return out

    def dump_profile(self) -> None:
        if self.profile_to is None or not self._profilers:
            return
        stats = pstats.Stats(self._profilers[0])
        for profiler in self._profilers[1:]:
            stats.add(profiler)
        stats.dump_stats(str(self.profile_to))


def serve(root: Path, farm_name: str, node: str, profile_to: Path | None) -> int:
    started = time.perf_counter()
    # Imported here so the ready line can say how long importing and building the plugin took.
    from fakedevices.farm import build_farm
    from fakedevices.farmspec.loader import load_farm_spec
    from fakedevices.plugin.driver import NodeDriver
    from fakedevices.plugin.inventory import NodeInventory
    from fakedevices.plugin.server import PluginServer

    imported = time.perf_counter()
    farm = build_farm(load_farm_spec(farm_name))
    built = time.perf_counter()
    inventory = NodeInventory(farm, node)
    claims = SyntheticClaims(farm.driver, node)
    driver = NodeDriver(inventory, claims, host_layout(root, farm.driver))
    timed = Timed(profile_to)
    driver.prepare = timed.wrap("prepare", driver.prepare)  # type: ignore[method-assign]
    driver.unprepare = timed.wrap("unprepare", driver.unprepare)  # type: ignore[method-assign]
    server = PluginServer(driver)
    server.start()
    ready = time.perf_counter()

    stopping = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stopping.set())
    out_lock = threading.Lock()

    def say(message: dict[str, Any]) -> None:
        with out_lock:
            sys.stdout.write(json.dumps(message) + "\n")
            sys.stdout.flush()

    def commands() -> None:
        for line in sys.stdin:
            command = line.strip()
            if command == "stats":
                say({"stats": timed.take(), "memory": memory_status("self")})
            elif command == "stop":
                break
            elif command:
                say({"error": f"unknown command {command!r}; use stats or stop"})
        stopping.set()

    threading.Thread(target=commands, name="commands", daemon=True).start()
    say(
        {
            "ready": True,
            "driver": farm.driver,
            "node": node,
            "devices": len(inventory.devices()),
            "gpus": [
                d.name for pool, d in inventory.devices() if pool == node and d.kind == "gpu" and d.name == d.physical
            ],
            "farm_nodes": len(farm.nodes),
            "registration_socket": str(server.layout.registration_socket),
            "import_seconds": round(imported - started, 4),
            "farm_build_seconds": round(built - imported, 4),
            "start_seconds": round(ready - built, 4),
            "memory": memory_status("self"),
        }
    )
    stopping.wait()
    server.stop()
    timed.dump_profile()
    say({"stopped": True})
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = bench_parser("benchmarks.plugin_host", __doc__)
    parser.add_argument("--root", type=Path, required=True, help="Short directory for sockets, state and CDI specs.")
    parser.add_argument("--farm", default="large", help="Farm spec: example name or path (default: large).")
    parser.add_argument("--node", default="gpu-node-0", help="The node whose plugin to run.")
    parser.add_argument("--profile", type=Path, help="cProfile driver calls; write pstats to this file on stop.")
    args = parser.parse_args(argv)
    return serve(args.root, args.farm, args.node, args.profile)


if __name__ == "__main__":
    sys.exit(main())
