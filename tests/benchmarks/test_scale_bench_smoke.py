"""The scale benchmark end to end on a small farm (one real node and 20 virtual ones with 2 GPUs each): it
deploys the farm with virtual nodes, runs every workload, writes a valid results file and gives the run's
own farm back (no timing asserts: the figures are the benchmark's, on a 500-node farm)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import pytest
import yaml
from lightkube import Client
from lightkube.resources.core_v1 import Node

from benchmarks import scale_bench, scale_plot
from clusters.local.provider import LocalProvider
from clusters.virtual.nodes import FLEET_LABEL
from fakedevices.farmspec.loader import resolve_spec_path
from harness import device_lock
from harness.farm_lock import farm_exclusive
from tests.benchmarks.test_bench_smoke import check_document

pytestmark = pytest.mark.e2e


def test_scale_bench_writes_its_figures_and_restores_the_farm(
    farm_cluster: LocalProvider, kube: Client, tmp_path: Path
) -> None:
    document: dict[str, Any] = yaml.safe_load(resolve_spec_path("large").read_text())
    document["metadata"]["name"] = "scale-smoke"
    document["spec"]["nodeGroups"][0].update(count=21, devices={"gpu": {"count": 2}})
    spec = tmp_path / "scale-smoke.yaml"
    spec.write_text(yaml.safe_dump(document))
    out = tmp_path / "bench-scale.json"
    args = argparse.Namespace(
        out=out, farm=str(spec), pods=30, churn_rate=5.0, churn_seconds=2.0, timeout=120.0, fills=[0.5, 0.9],
        workloads=["partitions", "template", "steady", "cel"],
    )  # fmt: skip
    kubeconfig = farm_cluster.kubeconfig()
    with device_lock.exclusive("drafarm.dev", kubeconfig), farm_exclusive(kubeconfig):
        result = scale_bench.run(args, lambda _text: None)
    scale_bench.write_results(out, result)
    written = check_document(out, "scale", {t.name for t in scale_bench.TARGETS})
    figures = written["figures"]
    assert figures["virtual_nodes"] == 20 and figures["virtual_gpus"] == 40
    assert figures["template"]["pods"] == 30 and figures["template"]["pods_per_s"] > 0
    assert figures["template"]["claim_allocation"]["count"] == 30
    assert figures["cel"]["pods"] == 30
    assert figures["partitions"]["pods"] == 30 and figures["partitions"]["virtual_partitions"] > 40
    assert list(figures)[-1] == "partitions", "the workload that replaces the farm runs last"
    assert set(figures["steady"]) == {"fill_50", "fill_90"}
    assert all(f["pods"] > 0 for f in figures["steady"].values())
    assert "kube-scheduler" in figures["template"]["cpu"]["cores"]
    assert sum(second["bound"] for second in figures["template"]["timeline"]) == 30
    page = scale_plot.write_page(written, tmp_path / "bench-scale.html").read_text()
    assert page.count("<svg") == 2 * 5, "a throughput and a latency plot per phase (template, cel, 2 fills, partitions)"
    assert farm_cluster.farm() is not None and farm_cluster.farm().farm.name == "small"  # type: ignore[union-attr]
    assert list(kube.list(Node, labels={FLEET_LABEL: "scale-smoke"})) == []
