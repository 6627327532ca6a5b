"""Paths the user types are resolved where they typed them, and checked before anything starts."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _run(args: list[str], cwd: Path, state: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DRAFARM_STATE_DIR": str(state), "PYTHONPATH": str(ROOT)}
    env = {k: v for k, v in env.items() if not k.startswith("PYTEST_XDIST")}
    return subprocess.run(args, capture_output=True, text=True, timeout=120, cwd=cwd, env=env, check=False)


def test_cluster_up_with_a_missing_farm_file_fails_before_anything_starts(tmp_path: Path) -> None:
    state = tmp_path / "state"
    elsewhere = tmp_path / "work"
    elsewhere.mkdir()
    result = _run([sys.executable, "-m", "harness", "cluster", "up", "--farm", "../farms/gone.yaml"], elsewhere, state)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "--farm" in result.stderr and "../farms/gone.yaml" in result.stderr
    assert "no such file" in result.stderr
    assert not state.exists(), f"a rejected farm left state behind: {sorted(state.rglob('*'))}"


def test_cluster_up_with_an_invalid_farm_file_names_the_field_and_starts_nothing(tmp_path: Path) -> None:
    state = tmp_path / "state"
    (tmp_path / "farm.yaml").write_text("apiVersion: drafarm.dev/v1alpha1\nkind: Farm\nmetadata: {name: x}\nspec: {}\n")
    result = _run([sys.executable, "-m", "harness", "cluster", "up", "--farm", "farm.yaml"], tmp_path, state)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "spec.nodeGroups" in result.stderr, result.stderr
    assert not state.exists()


def test_a_suite_run_with_a_missing_farm_or_profile_is_a_usage_error_before_any_test(tmp_path: Path) -> None:
    state = tmp_path / "state"
    suite = str(ROOT / "suites" / "conformance")
    for option, value in (("--drafarm-farm", "nope/farm.yaml"), ("--drafarm-profile", "nope/profile.yaml")):
        args = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", suite, option, value]
        result = _run(args, tmp_path, state)
        assert result.returncode == 4, result.stdout + result.stderr  # pytest's usage error
        assert option in result.stderr and value in result.stderr, result.stderr
        assert "no such file" in result.stderr
        assert not state.exists()


def test_suite_paths_are_resolved_where_pytest_was_started(tmp_path: Path) -> None:
    """A farm given relative to the invocation directory is found (here: rejected only for a bad field)."""
    state = tmp_path / "state"
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "farm.yaml").write_text("apiVersion: drafarm.dev/v1alpha1\nkind: Farm\nmetadata: {name: x}\n")
    args = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", str(ROOT / "suites"), "--drafarm-farm"]
    result = _run([*args, "sub/farm.yaml"], tmp_path, state)
    assert result.returncode == 4, result.stdout + result.stderr
    assert "no such file" not in result.stderr and "spec" in result.stderr, result.stderr
