"""The kind slice of `make test`: the suites' smoke tests and every multi-node test pass on a real kind
cluster of two workers, each running the farm's driver DaemonSet pod (tests/clusters/farms/kind-pair.yaml:
two nodes, a camera pool only the first reaches), while this host also holds the cameras' addresses (as a
local cluster serving them does); then, on the same cluster, the driver DaemonSet rolls
while a pod with a claim starts every second, and none fails (tests/clusters/kind_rollout.py). The
cluster is this test's own and goes down after."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from clusters.kind.provider import KindProvider
from tests.clusters.kind_rollout import roll_the_driver_while_pods_start
from tests.harness.conformance_run import ROOT, run_suites

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.runs_long,
    pytest.mark.own_cluster,  # a kind cluster of its own: tests on the shared local cluster need not wait for it
    pytest.mark.skipif(os.geteuid() != 0, reason="drafarm's dockerd and debootstrap need root"),
]
FARM = Path(__file__).parent / "farms" / "kind-pair.yaml"
CLUSTER = "drafarm-slice"
CAMERAS = ("198.19.77.10", "198.19.77.11")  # the farm's camera pool


@contextmanager
def cameras_also_on_this_host() -> Iterator[None]:
    """The cameras' addresses on this host's `lo` as well, as a local cluster serving the same farm's cameras
    on their own addresses holds them: the kind nodes must still reach the camera containers."""
    added = []
    try:
        for address in CAMERAS:
            subprocess.run(["ip", "addr", "add", f"{address}/32", "dev", "lo"], check=True, timeout=30)
            added.append(address)
        yield
    finally:
        for address in added:
            subprocess.run(["ip", "addr", "del", f"{address}/32", "dev", "lo"], check=False, timeout=30)


def test_smoke_and_multi_node_suites_pass_on_two_kind_workers(tmp_path: Path) -> None:
    args = [
        "-n", "2", str(ROOT / "suites"), "-m", "smoke or multi_node",
        "--drafarm-cluster", "kind", "--drafarm-farm", str(FARM), "--drafarm-keep-cluster",
    ]  # fmt: skip
    provider = KindProvider(cluster_name=CLUSTER)
    provider.down()  # what a killed earlier run may have left (its own cluster name)
    try:
        with cameras_also_on_this_host():
            run = run_suites(args, tmp_path / "report", timeout=2400, env={"DRAFARM_CLUSTER_NAME": CLUSTER})
        rolled = roll_the_driver_while_pods_start(provider) if run.returncode == 0 else {}
    finally:
        provider.down()
        leftovers = provider.leftovers()
    assert run.returncode == 0 and not run.failing(), run.summary()
    built, nodes_up = run.stdout.find("drafarm: node image for"), run.stdout.find("bringing up nodes")
    assert -1 < built < nodes_up, f"the node image was not looked up before the workers started:\n{run.stdout[:3000]}"
    multi = {t["nodeid"]: t["outcome"] for t in run.tests if "test_multi_node.py" in t["nodeid"]}
    assert len(multi) == 6 and set(multi.values()) == {"passed"}, run.summary()
    assert run.count("passed") >= 20, run.summary()
    pictured = {n["name"] for n in (run.results.get("farm") or {}).get("nodes") or []}
    assert pictured == {f"{CLUSTER}-worker", f"{CLUSTER}-worker2"}, f"the report's farm picture shows {pictured}"
    assert leftovers == [], f"the run's kind cluster left {leftovers}"
    assert rolled["driver_pods_replaced"] and rolled["steady_same_container"] and rolled["steady_uses_its_gpu"], rolled
    assert len(rolled["started"]) >= 3 and set(rolled["started"].values()) == {"Succeeded"}, json.dumps(
        rolled["why_not_succeeded"], indent=1
    )
