"""Benchmark of the kind provider: node image build (inputs unchanged / image rebuilt), `up` to every node
Ready, the farm's driver DaemonSet registered on every worker, pod-with-claim to Running, `down`, and what
`down` left.

`python -m benchmarks.kind_bench` (root; BENCH_RUNS, BENCH_KIND_WORKERS, BENCH_PODS, K8S_VERSION) writes
`results/bench-kind-<version>-<time>.json`. Targets (2 cores): warm `up` <= 60 s for 3 nodes, `down` <= 15 s,
nothing left behind, pod-with-claim to Running p50 <= 3 s.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks.common import latency_summary_ms
from benchmarks.suite_bench import pod_to_running
from clusters.bench_result import up_down_summary, write_result
from clusters.host import docker_cli, dockerd
from clusters.images.node.build import build_node_image
from clusters.kind.provider import KindProvider
from fakedevices.farm import open_farm
from harness.kube import Kube

UP_TARGET_S = 60.0
DOWN_TARGET_S = 15.0
POD_P50_TARGET_S = 3.0
FARM = "mixed"  # its first nodes have GPU partitions, which the pods claim


def _image_build(provider: KindProvider, drop_first: bool) -> tuple[float, bool]:
    endpoint = dockerd.ensure()
    if drop_first:
        image = build_node_image(provider.settings.pins.kubernetes, endpoint, lambda _s: None)
        docker_cli.run(endpoint, "image", "rm", image.ref, check=False)
    image = build_node_image(provider.settings.pins.kubernetes, endpoint, lambda _s: None)
    return image.seconds, image.cached


def _one_run(provider: KindProvider, run: int, pods: int) -> tuple[dict[str, Any], list[float]]:
    """up, the farm's driver on every worker, `pods` pods with a claim (first run only), down."""
    latencies: list[float] = []
    up_s = farm_s = 0.0
    start = time.monotonic()
    try:
        provider.up()
        up_s = time.monotonic() - start
        provider.deploy_farm(open_farm(FARM))
        farm_s = time.monotonic() - start - up_s
        if pods:
            latencies = pod_to_running(Kube(provider.kubeconfig()), pods)
    finally:
        start_down = time.monotonic()
        provider.down()
        down_s = time.monotonic() - start_down
    left = provider.leftovers()
    sample = {
        "run": run,
        "up_s": round(up_s, 2),
        "driver_registered_s": round(farm_s, 2),
        "down_s": round(down_s, 2),
        "leftovers": left,
    }
    print(
        f"run {run}: up {up_s:.1f}s, driver registered on every worker {farm_s:.1f}s later, down {down_s:.1f}s, "
        f"leftovers: {left or 'none'}",
        flush=True,
    )
    return sample, latencies


def run(runs: int, workers: int, pods: int, out_dir: Path) -> Path:
    name = f"bench{os.getpid() % 100000}"
    provider = KindProvider(k8s_version=os.environ.get("K8S_VERSION") or None, cluster_name=name, workers=workers)
    rebuilt_s, _ = _image_build(provider, drop_first=True)
    cached_s, cached = _image_build(provider, drop_first=False)
    print(f"node image: rebuilt (base cached) {rebuilt_s:.1f}s, unchanged {cached_s:.1f}s", flush=True)
    samples: list[dict[str, Any]] = []
    latencies: list[float] = []
    for i in range(runs):
        sample, measured = _one_run(provider, i + 1, pods if i == 0 else 0)
        samples.append(sample)
        latencies += measured
    summary = up_down_summary(samples, UP_TARGET_S, DOWN_TARGET_S)
    to_running = latency_summary_ms(latencies) if latencies else {}
    p50_met = bool(to_running) and to_running["p50_ms"] <= POD_P50_TARGET_S * 1000
    result = {
        "provider": "kind",
        "kubernetes": provider.settings.pins.kubernetes,
        "nodes": 1 + workers,
        "farm": FARM,
        "host": summary.pop("host"),
        "load_average": os.getloadavg(),
        "node_image_rebuilt_s": round(rebuilt_s, 2),
        "node_image_unchanged_s": round(cached_s, 2),
        "node_image_unchanged_was_cached": cached,
        "pod_with_claim_to_running": to_running,
        **summary,
        "met": summary["met"] and p50_met,
    }
    result["targets"]["pod_to_running_p50_s"] = POD_P50_TARGET_S
    return write_result(out_dir, f"bench-kind-{provider.settings.pins.kubernetes}", result)


def main() -> None:
    run(
        int(os.environ.get("BENCH_RUNS", "2")),
        int(os.environ.get("BENCH_KIND_WORKERS", "2")),
        int(os.environ.get("BENCH_PODS", "20")),
        Path(os.environ.get("DRAFARM_RESULTS_DIR", "results")),
    )


if __name__ == "__main__":
    main()
    sys.exit(0)
