"""`drafarm cluster up --farm <relative path>` from a directory other than the project root: the plugin
gets the spec where the user meant it, registers, and publishes the farm's slices."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from lightkube import Client
from lightkube.resources.resource_v1 import ResourceSlice

from clusters.local import farm as local_farm
from clusters.local.provider import LocalProvider
from fakedevices.farm import open_farm
from fakedevices.farmspec.loader import resolve_spec_path
from harness import device_lock
from harness.farm_lock import farm_exclusive
from tests.polling import wait_for

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
FARM = "small"


def _slice_devices(kube: Client, driver: str, node: str) -> set[str]:
    slices = kube.list(ResourceSlice, fields={"spec.driver": driver, "spec.nodeName": node})
    return {d.name for s in slices for d in (s.spec.devices or [])}


def _last_start(provider: LocalProvider) -> str:
    text = provider.layout.log(local_farm.PLUGIN).read_text(errors="replace")
    return text.rsplit(f"==== drafarm: starting {local_farm.PLUGIN}", 1)[-1]


def test_cluster_up_with_a_relative_farm_path_from_another_directory(
    farm_cluster: LocalProvider, kube: Client, tmp_path: Path
) -> None:
    farms = tmp_path / "farms"
    farms.mkdir()
    shutil.copy(resolve_spec_path(FARM), farms / "my-farm.yaml")  # the same farm, a path of the user's own
    workdir = tmp_path / "work"
    workdir.mkdir()
    expected = open_farm(farms / "my-farm.yaml").farm
    node = farm_cluster.nodes()[0]
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_XDIST")}
    env["PYTHONPATH"] = str(ROOT)
    kubeconfig = farm_cluster.kubeconfig()
    # The plugin restarts: not while a suite test uses its devices, nor while a fault test runs.
    with device_lock.exclusive(expected.driver, kubeconfig), farm_exclusive(kubeconfig):
        try:
            result = subprocess.run(
                [sys.executable, "-m", "harness", "cluster", "up", "--farm", "../farms/my-farm.yaml"],
                cwd=workdir, env=env, capture_output=True, text=True, timeout=300, check=False,
            )  # fmt: skip
            assert result.returncode == 0, f"cluster up failed:\n{result.stderr[-3000:]}"
            started = _last_start(farm_cluster)
            assert f"--farm {farms / 'my-farm.yaml'}" in started, started[:2000]
            assert f"kubelet registered driver {expected.driver}" in started, started[-2000:]
            want = {d.name for d in expected.nodes[0].devices}
            wait_for(
                lambda: _slice_devices(kube, expected.driver, node) == want,
                60,
                f"the farm's devices in {node}'s slices",
                lambda: str(sorted(_slice_devices(kube, expected.driver, node))),
            )
        finally:
            farm_cluster.deploy_farm(open_farm(FARM))  # the run's own farm again, for the other tests
