"""Benchmark the DRA kubelet plugin through its real unix sockets, with a client that plays the kubelet.

    python -m benchmarks.plugin_bench [--out results/bench-plugin.json] [--seconds S] [--callers N]

The plugin runs in its own process (`benchmarks.plugin_host`) serving one node of the `large` farm
(8 GPUs), as `drafarm plugin run` would, but reading claims from `SyntheticClaims` instead of an API
server. Measured at the client:

- prepare latency of single-claim calls, one caller, each on a new claim UID (then unprepared);
- the repeat prepare of an already prepared claim (the idempotent answer from the checkpoint);
- sustained prepares/s with N concurrent callers, each looping prepare + unprepare on new claim UIDs;
- the plugin process's CPU (user + system) per prepare + unprepare cycle, single-caller and under the
  load: on a machine busy with other work wall times wander, CPU per cycle much less;
- the plugin process's memory (VmRSS now, VmHWM peak) idle and after the load; also, when it can
  start, the idle RSS of the real `drafarm plugin run --no-publish` process for the same node.

State and CDI specs go under /dev/shm (a tmpfs, as /run is on a node and as the real-path benchmark
keeps them) when there is one, else /tmp; `--state-root` chooses.

Targets (2 cores): prepare p50 <= 2 ms, >= 500 prepares/s, <= 150 MB RSS.
"""

from __future__ import annotations

import contextlib
import json
import os
import pstats
import queue
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO, Any

from benchmarks.claims import new_claim
from benchmarks.closed_loop import LoadResult, closed_loop
from benchmarks.command_line import above_zero, at_least_one, bench_parser, report
from benchmarks.common import Target, figure, latency_summary_ms, results_document, write_results
from benchmarks.kubelet import BenchKubelet, wait_for_socket
from benchmarks.plugin_host import host_layout
from benchmarks.procfs import cpu_seconds, memory_status
from clusters.log_tail import log_tail

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = Path("results/bench-plugin.json")
SOCKET_PATH_LIMIT = 107
TMPFS = Path("/dev/shm")


def default_state_root() -> Path:
    return TMPFS if TMPFS.is_dir() and os.access(TMPFS, os.W_OK) else Path("/tmp")


TARGETS = {
    "prepare_p50": Target("prepare_p50", "prepare_single.client.p50_ms", 2.0, "ms", at_most=True),
    "prepares_per_second": Target(
        "prepares_per_second", "throughput.prepares_per_second", 500.0, "prepares/s", at_most=False
    ),
    "plugin_rss": Target("plugin_rss", "memory.rss_max_mb", 150.0, "MB", at_most=True),
}


@dataclass(frozen=True)
class PluginBenchParams:
    farm: str = "large"
    node: str = "gpu-node-0"
    samples: int = 500
    cached_samples: int = 500
    warmup: int = 30
    callers: int = 8
    seconds: float = 5.0
    cli_rss: bool = True
    start_timeout: float = 120.0
    state_root: str = ""
    """Where the plugin's state and CDI specs go (empty: `default_state_root()`)."""


def python_path() -> str:
    """PYTHONPATH for child processes: the repo root first, so `benchmarks` imports from anywhere."""
    return os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")]))


# ---- the plugin process ---------------------------------------------------------------------------


class PluginProcess:
    """`benchmarks.plugin_host` in a child process, in a short temporary directory under /tmp."""

    def __init__(self, farm: str, node: str, *, profile_to: Path | None = None, state_root: Path | None = None) -> None:
        self.farm = farm
        self.node = node
        self.profile_to = profile_to
        self.root = Path(tempfile.mkdtemp(prefix="dfb-", dir=state_root or default_state_root()))
        self.stderr_path = self.root / "host.log"
        self.proc: subprocess.Popen[str] | None = None
        self.ready: dict[str, Any] = {}
        self._lines: queue.Queue[str] = queue.Queue()

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def start(self, timeout: float) -> dict[str, Any]:
        command = [sys.executable, "-m", "benchmarks.plugin_host", "--root", str(self.root)]
        command += ["--farm", self.farm, "--node", self.node]
        if self.profile_to is not None:
            command += ["--profile", str(self.profile_to)]
        env = {**os.environ, "PYTHONPATH": python_path()}
        with self.stderr_path.open("w") as stderr:
            self.proc = subprocess.Popen(
                command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr, text=True, env=env
            )
        threading.Thread(target=self._pump, args=(self.proc.stdout,), name="host-stdout", daemon=True).start()
        self.ready = self._read(timeout, "ready")
        socket = Path(self.ready["registration_socket"])
        if len(str(socket)) > SOCKET_PATH_LIMIT:
            raise RuntimeError(f"socket path {socket} is longer than {SOCKET_PATH_LIMIT} bytes")
        return self.ready

    def _pump(self, stdout: IO[str] | None) -> None:
        assert stdout is not None
        for line in stdout:
            self._lines.put(line)
        self._lines.put("")

    def _read(self, timeout: float, key: str) -> dict[str, Any]:
        assert self.proc is not None
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self._lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise TimeoutError(
                    f"plugin host sent no {key!r} line in {timeout:g} s; its log:\n{self.log_tail()}"
                ) from None
            if not line:
                self._lines.put("")
                raise RuntimeError(f"plugin host exited (code {self.proc.poll()}); its log:\n{self.log_tail()}")
            message: dict[str, Any] = json.loads(line)
            if key in message:
                return message
            if "error" in message:
                raise RuntimeError(f"plugin host: {message['error']}")

    def command(self, name: str, expect: str, timeout: float = 30.0) -> dict[str, Any]:
        assert self.proc is not None and self.proc.stdin is not None
        self.proc.stdin.write(name + "\n")
        self.proc.stdin.flush()
        return self._read(timeout, expect)

    def stats(self) -> dict[str, Any]:
        return self.command("stats", "stats")

    def log_tail(self, lines: int = 30) -> str:
        return log_tail(self.stderr_path, lines, "(no log)")

    def stop(self, timeout: float = 20.0) -> None:
        if self.proc is not None and self.proc.poll() is None:
            with contextlib.suppress(OSError, RuntimeError, TimeoutError, ValueError):
                self.command("stop", "stopped", timeout)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout)
        if self.proc is not None and self.proc.stdin is not None:
            self.proc.stdin.close()
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> PluginProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


# ---- the measurements -----------------------------------------------------------------------------


def single_claim_cycles(kubelet: BenchKubelet, device: str, count: int) -> tuple[list[float], list[float]]:
    """`count` prepare + unprepare cycles, one claim each, a new UID every time: (prepare, unprepare) s."""
    prepares: list[float] = []
    unprepares: list[float] = []
    for _ in range(count):
        claim = new_claim(device)
        started = time.perf_counter()
        kubelet.prepare([claim])
        prepared = time.perf_counter()
        kubelet.unprepare([claim])
        prepares.append(prepared - started)
        unprepares.append(time.perf_counter() - prepared)
    return prepares, unprepares


def cached_prepares(kubelet: BenchKubelet, device: str, count: int) -> list[float]:
    """Prepare one claim, then prepare it again `count` times (the kubelet retries and restarts do)."""
    claim = new_claim(device)
    kubelet.prepare([claim])
    out = []
    try:
        for _ in range(count):
            started = time.perf_counter()
            kubelet.prepare([claim])
            out.append(time.perf_counter() - started)
    finally:
        kubelet.unprepare([claim])
    return out


def sustained_load(kubelet: BenchKubelet, devices: Sequence[str], callers: int, seconds: float) -> LoadResult:
    """`callers` threads, caller i on devices[i % len], looping prepare + unprepare on new UIDs.

    Exclusive GPUs while there are enough for one per caller; beyond that the claims time-slice them."""
    shared = callers > len(devices)
    return closed_loop(
        kubelet, callers, seconds, lambda caller, _turn: new_claim(devices[caller % len(devices)], shared=shared)
    )


def driver_side(stats: dict[str, Any], name: str) -> dict[str, Any] | None:
    samples = stats["stats"].get(name) or []
    return latency_summary_ms(samples) if samples else None


def cli_idle_rss(farm: str, node: str, timeout: float) -> dict[str, Any]:
    """RSS of the real `drafarm plugin run --no-publish` for the node, once it serves (claims unreadable:
    its kubeconfig points at a closed port, which only matters for prepare, not for memory)."""
    root = Path(tempfile.mkdtemp(prefix="dfc-", dir="/tmp"))
    layout = host_layout(root)
    kubeconfig = root / "kubeconfig"
    kubeconfig.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: none\n"
        "clusters: [{name: none, cluster: {server: 'https://127.0.0.1:9'}}]\n"
        "users: [{name: none, user: {token: none}}]\n"
        "contexts: [{name: none, context: {cluster: none, user: none}}]\n"
    )
    command = [sys.executable, "-m", "harness", "plugin", "run", "--node", node, "--farm", farm, "--no-publish"]
    command += ["--kubeconfig", str(kubeconfig), "--kubelet-root", str(layout.kubelet_root)]
    command += ["--state-dir", str(layout.state_dir), "--cdi-dir", str(layout.cdi_dir), "--log-format", "text"]
    log_path = root / "plugin.log"
    proc: subprocess.Popen[bytes] | None = None
    try:
        with log_path.open("w") as log:
            proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log, stderr=log, cwd=REPO_ROOT)
        started = time.perf_counter()
        socket = layout.registration_socket
        wait_for_socket(socket, timeout)
        ready = time.perf_counter() - started
        with BenchKubelet(socket):
            memory = memory_status(proc.pid)
        return {"command": "drafarm " + " ".join(command[3:]), "ready_seconds": round(ready, 3), **memory}
    except (OSError, TimeoutError, RuntimeError) as exc:
        tail = log_path.read_text()[-800:] if log_path.exists() else ""
        return {"error": f"{type(exc).__name__}: {exc}", "log_tail": tail}
    finally:
        if proc is not None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        shutil.rmtree(root, ignore_errors=True)


def filesystem_of(path: Path) -> str:
    """The filesystem type holding `path` (fsync cost depends on it): longest mount point prefix."""
    best, kind = "", "unknown"
    target = str(path.resolve())
    for line in Path("/proc/self/mounts").read_text().splitlines():
        parts = line.split()
        under = len(parts) > 2 and (target == parts[1] or target.startswith(parts[1].rstrip("/") + "/"))
        if under and len(parts[1]) >= len(best):
            best, kind = parts[1], parts[2]
    return kind


def run(params: PluginBenchParams, out: Path | None, *, log: Any = print) -> dict[str, Any]:
    started = time.monotonic()
    figures: dict[str, Any] = {}
    notes: list[str] = []
    with PluginProcess(params.farm, params.node, state_root=_state_root(params)) as host:
        ready = host.start(params.start_timeout)
        devices: list[str] = ready["gpus"]
        if not devices:
            raise RuntimeError(f"node {params.node} of farm {params.farm} has no GPUs to prepare")
        figures["plugin_process"] = {
            "pid": host.pid,
            "farm": params.farm,
            "farm_nodes": ready["farm_nodes"],
            "node": params.node,
            "devices": ready["devices"],
            "gpus": len(devices),
            "import_seconds": ready["import_seconds"],
            "farm_build_seconds": ready["farm_build_seconds"],
            "start_seconds": ready["start_seconds"],
            "state_dir": str(host.root),
            "state_filesystem": filesystem_of(host.root),
        }
        idle = ready["memory"]
        log(f"plugin for {params.node} ({len(devices)} devices) up in pid {host.pid}, RSS {idle['VmRSS_mb']} MB")
        with BenchKubelet(Path(ready["registration_socket"])) as kubelet:
            figures["registration"] = {"endpoint": kubelet.endpoint, "supported_versions": kubelet.versions}
            single_claim_cycles(kubelet, devices[0], params.warmup)
            host.stats()

            plugin_cpu = cpu_seconds(host.pid)
            prepares, unprepares = single_claim_cycles(kubelet, devices[0], params.samples)
            plugin_cpu = cpu_seconds(host.pid) - plugin_cpu
            stats = host.stats()
            figures["prepare_single"] = {
                "client": latency_summary_ms(prepares),
                "driver": driver_side(stats, "prepare"),
                "plugin_cpu_ms_per_cycle": round(1000 * plugin_cpu / params.samples, 3),
            }
            figures["unprepare_single"] = {
                "client": latency_summary_ms(unprepares),
                "driver": driver_side(stats, "unprepare"),
            }
            log(f"single-claim prepare p50 {figures['prepare_single']['client']['p50_ms']} ms")

            cached = cached_prepares(kubelet, devices[0], params.cached_samples)
            stats = host.stats()
            figures["prepare_cached"] = {"client": latency_summary_ms(cached), "driver": driver_side(stats, "prepare")}
            log(f"cached repeat prepare p50 {figures['prepare_cached']['client']['p50_ms']} ms")

            plugin_cpu, client_cpu = cpu_seconds(host.pid), cpu_seconds("self")
            load = sustained_load(kubelet, devices, params.callers, params.seconds)
            plugin_cpu, client_cpu = cpu_seconds(host.pid) - plugin_cpu, cpu_seconds("self") - client_cpu
            stats = host.stats()
            rate = load.prepares / load.elapsed if load.elapsed > 0 else 0.0
            figures["throughput"] = {
                "callers": params.callers,
                "claim_sharing": "TimeSlicing" if params.callers > len(devices) else "Exclusive",
                "seconds": round(load.elapsed, 3),
                "prepares": load.prepares,
                "prepares_per_second": round(rate, 1),
                "cycles_per_second": round(rate, 1),
                "rpcs_per_second": round(2 * rate, 1),
                "errors": len(load.errors),
                "first_errors": load.errors[:5],
                "prepare_under_load": latency_summary_ms(load.latencies) if load.latencies else None,
                "driver_prepare": driver_side(stats, "prepare"),
                "driver_unprepare": driver_side(stats, "unprepare"),
                "plugin_cpu_percent": round(100 * plugin_cpu / load.elapsed, 1),
                "plugin_cpu_ms_per_cycle": round(1000 * plugin_cpu / load.prepares, 3) if load.prepares else None,
                "kubelet_client_cpu_percent": round(100 * client_cpu / load.elapsed, 1),
            }
            if load.errors:
                notes.append(f"{len(load.errors)} callers stopped on an error, first: {load.errors[0]}")
            log(f"{params.callers} callers: {figures['throughput']['prepares_per_second']} prepares/s")
        loaded = stats["memory"]
        figures["memory"] = {
            "rss_idle_mb": idle["VmRSS_mb"],
            "rss_after_load_mb": loaded["VmRSS_mb"],
            "rss_peak_mb": loaded["VmHWM_mb"],
            "rss_anon_after_load_mb": loaded.get("RssAnon_mb"),
            "measured": f"/proc/{host.pid}/status of the plugin host process (VmRSS, VmHWM)",
        }
    memory = figures["memory"]
    memory["rss_max_mb"] = memory["rss_peak_mb"]
    if params.cli_rss:
        memory["cli_plugin_run_idle"] = cli = cli_idle_rss(params.farm, params.node, params.start_timeout)
        if "VmHWM_mb" in cli:
            # The real CLI also loads lightkube, click and prometheus: the target covers both processes.
            memory["rss_max_mb"] = max(memory["rss_peak_mb"], cli["VmHWM_mb"])
        else:
            notes.append(f"`drafarm plugin run` RSS not measured: {cli.get('error')}")
    targets = {name: target.check(figure(figures, target.figure)) for name, target in TARGETS.items()}
    document = results_document("plugin", asdict(params), figures, targets, started=started, notes=notes)
    if out is not None:
        write_results(out, document)
    return document


def _state_root(params: PluginBenchParams) -> Path | None:
    return Path(params.state_root) if params.state_root else None


# ---- profiling ------------------------------------------------------------------------------------


def profile(params: PluginBenchParams, out: Path, cycles: int, top: int) -> None:
    """The driver's prepare/unprepare under cProfile, in the plugin process, while the kubelet side runs
    single-claim cycles, cached prepares and the sustained load; prints where the time goes."""
    with PluginProcess(params.farm, params.node, profile_to=out, state_root=_state_root(params)) as host:
        ready = host.start(params.start_timeout)
        with BenchKubelet(Path(ready["registration_socket"])) as kubelet:
            single_claim_cycles(kubelet, ready["gpus"][0], cycles)
            cached_prepares(kubelet, ready["gpus"][0], cycles)
            load = sustained_load(kubelet, ready["gpus"], params.callers, params.seconds)
            print(f"under the profiler: {load.prepares / load.elapsed:.1f} prepares/s, {len(load.errors)} errors")
    stats = pstats.Stats(str(out))
    stats.strip_dirs().sort_stats("cumulative").print_stats(top)
    stats.sort_stats("tottime").print_stats(top)


def main(argv: Sequence[str] | None = None) -> int:
    parser = bench_parser("benchmarks.plugin_bench", __doc__, out=DEFAULT_OUT)
    parser.add_argument(
        "--seconds", type=above_zero, default=PluginBenchParams.seconds, help="Sustained-load duration."
    )
    parser.add_argument("--callers", type=at_least_one, default=PluginBenchParams.callers, help="Concurrent callers.")
    parser.add_argument(
        "--samples", type=at_least_one, default=PluginBenchParams.samples, help="Single-claim prepares."
    )
    parser.add_argument("--farm", default=PluginBenchParams.farm, help="Farm spec (default: large).")
    parser.add_argument("--node", default=PluginBenchParams.node, help="Node of the farm (default: gpu-node-0).")
    parser.add_argument(
        "--state-root", default="", help="Directory for the plugin state and CDI specs (default: /dev/shm, else /tmp)."
    )
    parser.add_argument("--no-cli-rss", action="store_true", help="Skip the `drafarm plugin run` RSS check.")
    parser.add_argument(
        "--profile", type=Path, metavar="FILE", help="Profile the driver's prepare/unprepare instead; pstats to FILE."
    )
    args = parser.parse_args(argv)
    params = PluginBenchParams(
        farm=args.farm,
        node=args.node,
        samples=args.samples,
        cached_samples=args.samples,
        callers=args.callers,
        seconds=args.seconds,
        cli_rss=not args.no_cli_rss,
        state_root=args.state_root,
    )
    if args.profile is not None:
        profile(params, args.profile, args.samples, 30)
        return 0
    return report(run(params, args.out), args.out)


if __name__ == "__main__":
    sys.exit(main())
