"""On a real cluster: a suite test whose profile key is missing is skipped naming the key, and
`drafarm profile init` writes a profile from what the farm's driver publishes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from clusters.local.provider import LocalProvider
from harness.profile_model import ROLE_KEYS
from harness.profiles import load_profile

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
BUILTIN = ROOT / "suites" / "profiles" / "drafarm.yaml"
NEEDS = {
    "suites/allocation/test_basic.py::test_several_devices_are_distinct_and_all_visible": "gpu.deviceEnv",
    "suites/allocation/test_basic.py::test_all_mode_takes_every_matching_device": "partition.pick",
    "suites/allocation/test_basic.py::test_released_devices_are_reusable": "gpu.pick",
    "suites/allocation/test_selectors.py::test_selector_on_attributes": "gpu.pick",
    "suites/allocation/test_selectors.py::test_selector_on_capacity": "partition.capacity",
    "suites/allocation/test_selectors.py::test_selector_on_version_attribute": "gpu.version",
    "suites/allocation/test_constraints.py::test_match_attribute_keeps_devices_on_one_value": "gpu.matchAttribute",
    "suites/allocation/test_constraints.py::test_distinct_attribute_spreads_devices": "gpu.distinctAttribute",
    "suites/allocation/test_prioritized.py::test_the_container_sees_the_base_request_name": "gpu.requestEnv",
}


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_XDIST")}


def test_every_missing_key_skips_its_tests_naming_the_key(farm_cluster: LocalProvider, tmp_path: Path) -> None:
    document = yaml.safe_load(BUILTIN.read_text())
    for klass in document["spec"]["deviceClasses"].values():
        for key in ROLE_KEYS:
            klass.pop(key, None)
    profile = tmp_path / "bare.yaml"
    profile.write_text(yaml.safe_dump(document))
    assert {n.split(".")[1] for n in NEEDS.values()} == set(ROLE_KEYS), "a key no test here covers"
    args = [
        sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-o", "addopts=", *NEEDS,
        "--drafarm-kubeconfig", str(farm_cluster.kubeconfig()), "--drafarm-profile", str(profile),
        "--drafarm-report-dir", str(tmp_path / "report"),
    ]  # fmt: skip
    result = subprocess.run(args, capture_output=True, text=True, timeout=300, cwd=ROOT, env=_env(), check=False)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    tests = {t["nodeid"]: t for t in json.loads((tmp_path / "report" / "results.json").read_text())["tests"]}
    for nodeid, key in NEEDS.items():
        assert tests[nodeid]["outcome"] == "skipped", tests[nodeid]
        assert f"deviceClasses.{key}" in tests[nodeid]["skip_reason"], tests[nodeid]["skip_reason"]


def test_profile_init_writes_a_valid_profile_from_the_farm(farm_cluster: LocalProvider, tmp_path: Path) -> None:
    out = tmp_path / "init.yaml"
    result = subprocess.run(
        [sys.executable, "-m", "harness", "profile", "init", "--driver", "drafarm.dev",
         "--kubeconfig", str(farm_cluster.kubeconfig()), "-o", str(out)],
        capture_output=True, text=True, timeout=120, cwd=ROOT, env=_env(), check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    profile = load_profile(out)
    gpu = profile.device_class("gpu")
    assert profile.driver == "drafarm.dev"
    assert gpu.pick and gpu.match_attribute and gpu.distinct_attribute and gpu.version and gpu.capacity
    assert "placeholder" in result.stderr


def test_an_image_the_nodes_cannot_run_stops_the_run_before_any_test(
    farm_cluster: LocalProvider, tmp_path: Path
) -> None:
    image = "drafarm.local/no-such-image:1"
    args = [
        sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-o", "addopts=",
        str(ROOT / "suites" / "conformance"), "--drafarm-kubeconfig", str(farm_cluster.kubeconfig()),
        "--drafarm-image", image, "--drafarm-report-dir", str(tmp_path / "report"),
    ]  # fmt: skip
    result = subprocess.run(args, capture_output=True, text=True, timeout=300, cwd=ROOT, env=_env(), check=False)
    assert result.returncode == 4, result.stdout[-2000:] + result.stderr[-2000:]  # a usage error: no test ran
    assert image in result.stderr and "ErrImagePull" in result.stderr, result.stderr[-2000:]
    assert "IMAGE=" in result.stderr
    assert not (tmp_path / "report" / "results.json").exists()
