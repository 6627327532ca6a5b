"""Benchmark: `cluster up` to a Ready node and `cluster down`, with binaries cached.

Run as `make bench` (or `python -m clusters.bench`); writes `results/bench-<version>-<time>.json`.
Targets (issue 3): up <= 30 s, down <= 10 s, nothing left behind after down.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from clusters import paths, shared
from clusters.bench_result import up_down_summary, write_result
from clusters.images import catalog
from clusters.local.provider import LocalProvider
from clusters.toolchain import lookup

UP_TARGET_S = 30.0
DOWN_TARGET_S = 10.0


def run(runs: int, out_dir: Path) -> Path:
    provider = LocalProvider(k8s_version=os.environ.get("K8S_VERSION") or None)
    # Test runs that start meanwhile wait for the benchmark instead of sharing a cluster it takes down.
    with shared.cluster_lock(provider, paths.state_root()):
        return _run_locked(provider, runs, out_dir)


def _run_locked(provider: LocalProvider, runs: int, out_dir: Path) -> Path:
    if provider.status().running:
        raise SystemExit(f"cluster {provider.cfg.name!r} is running; `drafarm cluster down` first, then re-run")
    print(f"preparing: toolchain {provider.cfg.pins.kubernetes} and images (not timed)", flush=True)
    lookup.binaries(provider.cfg.pins, build_missing=True)
    for spec in catalog.ALL:
        catalog.build(spec)
    provider.down()
    samples: list[dict[str, object]] = []
    for i in range(runs):
        start = time.monotonic()
        provider.up()
        up_s = time.monotonic() - start
        start = time.monotonic()
        provider.down()
        down_s = time.monotonic() - start
        left = provider.leftovers()
        samples.append({"run": i + 1, "up_s": round(up_s, 2), "down_s": round(down_s, 2), "leftovers": left})
        print(f"run {i + 1}: up {up_s:.1f}s, down {down_s:.1f}s, leftovers: {left or 'none'}", flush=True)
    result = {
        "kubernetes": provider.cfg.pins.kubernetes,
        "provider": provider.name,
        **up_down_summary(samples, UP_TARGET_S, DOWN_TARGET_S),
    }
    return write_result(out_dir, f"bench-{provider.cfg.pins.kubernetes}", result)


def main() -> None:
    runs = int(os.environ.get("BENCH_RUNS", "3"))
    run(runs, Path(os.environ.get("DRAFARM_RESULTS_DIR", "results")))


if __name__ == "__main__":
    main()
    sys.exit(0)
