"""--drafarm-nodes caps the nodes a provider is asked for; a bad value is a usage error naming it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from harness.environment import HarnessOptions, OptionError

ROOT = Path(__file__).resolve().parents[2]


def _options(tmp_path: Path, farm: str, nodes: str | None) -> HarnessOptions:
    values: dict[str, Any] = {
        "drafarm_kubeconfig": None,
        "drafarm_cluster": "kind",
        "drafarm_k8s_version": None,
        "drafarm_farm": farm,
        "drafarm_profile": "drafarm",
        "drafarm_keep_cluster": False,
        "drafarm_gates": "",
        "drafarm_node_cdi_dir": [],
        "drafarm_driver_log": None,
        "drafarm_image": None,
        "drafarm_nodes": nodes,
    }
    config = SimpleNamespace(getoption=values.__getitem__, invocation_params=SimpleNamespace(dir=tmp_path))
    return HarnessOptions.from_config(config)


def test_a_worker_per_farm_node_unless_capped(tmp_path: Path) -> None:
    assert _options(tmp_path, "mixed", None).workers == 6
    assert _options(tmp_path, "mixed", "2").workers == 2
    assert _options(tmp_path, "small", "3").workers == 1, "the cap never adds nodes the farm has not"
    assert _options(tmp_path, "none", "3").workers == 3


@pytest.mark.parametrize("bad", ["0", "-1", "two", "1.5"])
def test_a_bad_cap_names_the_option_and_the_fix(tmp_path: Path, bad: str) -> None:
    with pytest.raises(OptionError, match=r"--drafarm-nodes '.*': give a whole number of nodes, 1 or more"):
        _options(tmp_path, "mixed", bad)


def test_a_bad_cap_stops_a_suite_run_before_any_test(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_XDIST")}
    env.update(DRAFARM_STATE_DIR=str(tmp_path / "state"), PYTHONPATH=str(ROOT), NODES="zero")
    args = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", str(ROOT / "suites" / "conformance")]
    result = subprocess.run(args, capture_output=True, text=True, timeout=120, cwd=tmp_path, env=env, check=False)
    assert result.returncode == 4, result.stdout + result.stderr
    assert "--drafarm-nodes 'zero'" in result.stderr, result.stderr
    assert not (tmp_path / "state").exists()
