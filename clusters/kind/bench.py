"""Benchmark of the kind provider: node image build (inputs unchanged / image absent), `up` to every node
Ready, `down`, and what `down` left.

`python -m clusters.kind.bench` (root; BENCH_RUNS, BENCH_KIND_WORKERS, K8S_VERSION) writes
`results/bench-kind-<version>-<time>.json`. Targets (issue 10, 2 cores): warm `up` <= 60 s for 3 nodes,
`down` <= 15 s, nothing left behind.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from clusters.bench_result import up_down_summary, write_result
from clusters.host import docker_cli, dockerd
from clusters.images.node.build import build_node_image
from clusters.kind.provider import KindProvider

UP_TARGET_S = 60.0
DOWN_TARGET_S = 15.0


def _image_build(provider: KindProvider, drop_first: bool) -> tuple[float, bool]:
    endpoint = dockerd.ensure()
    if drop_first:
        image = build_node_image(provider.settings.pins.kubernetes, endpoint, lambda _s: None)
        docker_cli.run(endpoint, "image", "rm", image.ref, check=False)
    image = build_node_image(provider.settings.pins.kubernetes, endpoint, lambda _s: None)
    return image.seconds, image.cached


def run(runs: int, workers: int, out_dir: Path) -> Path:
    name = f"bench{os.getpid() % 100000}"
    provider = KindProvider(k8s_version=os.environ.get("K8S_VERSION") or None, cluster_name=name, workers=workers)
    rebuilt_s, _ = _image_build(provider, drop_first=True)
    cached_s, cached = _image_build(provider, drop_first=False)
    print(f"node image: rebuilt (base cached) {rebuilt_s:.1f}s, unchanged {cached_s:.1f}s", flush=True)
    samples: list[dict[str, object]] = []
    for i in range(runs):
        start = time.monotonic()
        try:
            provider.up()
            up_s = time.monotonic() - start
        finally:
            start_down = time.monotonic()
            provider.down()
            down_s = time.monotonic() - start_down
        left = provider.leftovers()
        samples.append({"run": i + 1, "up_s": round(up_s, 2), "down_s": round(down_s, 2), "leftovers": left})
        print(f"run {i + 1}: up {up_s:.1f}s, down {down_s:.1f}s, leftovers: {left or 'none'}", flush=True)
    summary = up_down_summary(samples, UP_TARGET_S, DOWN_TARGET_S)
    result = {
        "provider": "kind",
        "kubernetes": provider.settings.pins.kubernetes,
        "nodes": 1 + workers,
        "host": summary.pop("host"),
        "load_average": os.getloadavg(),
        "node_image_rebuilt_s": round(rebuilt_s, 2),
        "node_image_unchanged_s": round(cached_s, 2),
        "node_image_unchanged_was_cached": cached,
        **summary,
    }
    return write_result(out_dir, f"bench-kind-{provider.settings.pins.kubernetes}", result)


def main() -> None:
    run(
        int(os.environ.get("BENCH_RUNS", "2")),
        int(os.environ.get("BENCH_KIND_WORKERS", "2")),
        Path(os.environ.get("DRAFARM_RESULTS_DIR", "results")),
    )


if __name__ == "__main__":
    main()
    sys.exit(0)
