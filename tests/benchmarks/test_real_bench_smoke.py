"""The real-path benchmark runs end to end with tiny parameters on the shared local cluster and writes a
valid results file (no timing asserts)."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks import plugin_real_bench
from clusters.local.provider import LocalProvider
from tests.benchmarks.test_bench_smoke import check_document

pytestmark = pytest.mark.e2e


def test_plugin_real_bench_writes_ratios(local_cluster: LocalProvider, tmp_path: Path) -> None:
    params = plugin_real_bench.RealBenchParams(
        rounds=2, samples=6, warmup=2, callers=2, seconds=0.3, claims_per_device=2
    )
    out = tmp_path / "bench-plugin-real.json"
    plugin_real_bench.run(params, out, log=lambda _message: None)
    document = check_document(out, "plugin-real", {"p50_ratio", "p99_ratio", "throughput_ratio"})
    figures = document["figures"]
    for plugin in ("drafarm", "go"):
        assert figures[plugin]["errors"] == 0, figures[plugin]["first_errors"]
        assert figures[plugin]["prepare_single"]["count"] == 2 * 6
        assert figures[plugin]["throughput"]["prepares"] > 0
    order = [r["plugin"] for r in figures["rounds"]]
    assert order == ["drafarm", "go", "go", "drafarm", plugin_real_bench.REFERENCE]
    assert figures[plugin_real_bench.REFERENCE]["errors"] == 0, figures[plugin_real_bench.REFERENCE]["first_errors"]
    reads = figures["setup"]["drafarm_claim_reads"]
    assert reads.get("cache", 0) > 0, f"no prepare was served from the watch's cache: {reads}"
    assert "drafarm/go" in plugin_real_bench.table(document)
