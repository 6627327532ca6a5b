"""The benchmarks run end to end with tiny parameters and write valid results files (no timing asserts)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from benchmarks import __main__ as bench_main
from benchmarks import farm_bench, plugin_bench
from benchmarks.claims import SHARED_NAMESPACE, SyntheticClaims, new_claim, parse_name
from benchmarks.common import percentile


def quiet(_message: str) -> None:
    pass


def check_document(path: Path, benchmark: str, targets: set[str]) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(path.read_text())
    assert document["benchmark"] == benchmark
    assert {"version", "timestamp", "machine", "parameters", "figures", "targets", "pass"} <= set(document)
    assert document["machine"]["nproc"] >= 1 and document["machine"]["python"]
    assert set(document["targets"]) == targets
    for name, target in document["targets"].items():
        assert isinstance(target["pass"], bool), name
        assert isinstance(target["value"], float), f"{name}: no figure at {target['figure']}"
    assert document["pass"] == all(t["pass"] for t in document["targets"].values())
    return document


def test_percentile_is_nearest_rank() -> None:
    samples = [float(x) for x in range(1, 101)]
    assert percentile(samples, 50) == 50.0
    assert percentile(samples, 99) == 99.0
    assert percentile([3.0], 99) == 3.0
    with pytest.raises(ValueError):
        percentile([], 50)


def test_claim_names_round_trip_into_allocated_claims() -> None:
    claim = new_claim("gpu-3", shared=True)
    assert parse_name(claim.name) == ("gpu-3", claim.uid)
    assert parse_name("not-a-bench-claim") is None
    obj = SyntheticClaims("drafarm.dev", "node-a").get(claim.namespace, claim.name)
    assert obj is not None and claim.namespace == SHARED_NAMESPACE
    assert obj["metadata"]["uid"] == claim.uid
    result = obj["status"]["allocation"]["devices"]["results"][0]
    assert (result["pool"], result["device"], result["driver"]) == ("node-a", "gpu-3", "drafarm.dev")
    assert obj["status"]["allocation"]["devices"]["config"][0]["opaque"]["parameters"]["kind"] == "GpuConfig"


def test_plugin_bench_writes_results(tmp_path: Path) -> None:
    params = plugin_bench.PluginBenchParams(
        samples=5, cached_samples=5, warmup=2, callers=2, seconds=0.3, cli_rss=False
    )
    out = tmp_path / "bench-plugin.json"
    plugin_bench.run(params, out, log=quiet)
    document = check_document(out, "plugin", {"prepare_p50", "prepares_per_second", "plugin_rss"})
    figures = document["figures"]
    assert figures["prepare_single"]["client"]["count"] == 5
    assert figures["prepare_single"]["driver"]["count"] == 5
    assert figures["prepare_cached"]["client"]["count"] == 5
    assert figures["throughput"]["errors"] == 0, figures["throughput"]["first_errors"]
    assert figures["throughput"]["prepares"] > 0
    assert figures["prepare_single"]["plugin_cpu_ms_per_cycle"] >= 0
    assert figures["throughput"]["plugin_cpu_ms_per_cycle"] >= 0
    assert figures["plugin_process"]["farm_nodes"] == 500 and figures["plugin_process"]["gpus"] == 8
    assert figures["registration"]["supported_versions"][0] == "v1.DRAPlugin"


def test_farm_bench_writes_results(tmp_path: Path) -> None:
    out = tmp_path / "bench-farm.json"
    farm_bench.run(farm_bench.FarmBenchParams(farm="small", repeat=1, formats=("table",)), out, log=quiet)
    document = check_document(out, "farm", {"farm_show", "farm_build"})
    assert document["figures"]["farm_show"]["table"]["output_bytes"] > 0
    assert document["figures"]["in_process"]["nodes"] == 1


def test_python_m_benchmarks_writes_both_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tiny = ["--samples", "3", "--seconds", "0.2", "--callers", "2", "--repeat", "1", "--no-cli-rss"]
    code = bench_main.main(["--results-dir", str(tmp_path), *tiny])
    assert code in (0, 1)
    check_document(tmp_path / "bench-plugin.json", "plugin", {"prepare_p50", "prepares_per_second", "plugin_rss"})
    check_document(tmp_path / "bench-farm.json", "farm", {"farm_show", "farm_build"})
    printed = capsys.readouterr().out
    assert "prepare p50" in printed and ("all targets met" in printed or "TARGETS MISSED" in printed)
