"""`drafarm farm validate|show` as a person and a tool use it: exit codes, one line per problem, outputs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import yaml

DRAFARM = [sys.executable, "-m", "harness"]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*DRAFARM, *args], capture_output=True, text=True, timeout=60, check=False)


def test_validate_example_ok() -> None:
    result = _run("farm", "validate", "small")
    assert result.returncode == 0, result.stderr
    assert "valid farm 'small'" in result.stdout


def test_validate_bad_spec_exits_2_with_one_line_per_problem(tmp_path: Path) -> None:
    spec = tmp_path / "bad.yaml"
    spec.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "drafarm.dev/v1alpha1",
                "kind": "Farm",
                "metadata": {"name": "bad"},
                "spec": {"seed": "x", "nodeGroups": [{"name": "w", "devices": {"gpu": {"count": 99}}}]},
            }
        )
    )
    before = spec.read_bytes()
    result = _run("farm", "validate", str(spec))
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.startswith(str(spec))]
    assert len(lines) == 2, result.stderr
    assert any('spec.seed: got "x"' in line for line in lines)
    assert any(
        "spec.nodeGroups[0].devices.gpu.count: got 99; allowed: an integer from 0 to 64" in line for line in lines
    )
    assert spec.read_bytes() == before


def test_validate_missing_file_and_bad_yaml(tmp_path: Path) -> None:
    result = _run("farm", "validate", str(tmp_path / "nope.yaml"))
    assert result.returncode == 2
    assert "no such file; give a path or an example name (large, mixed, small)" in result.stderr
    broken = tmp_path / "broken.yaml"
    broken.write_text("spec: [unclosed\n")
    result = _run("farm", "validate", str(broken))
    assert result.returncode == 2
    assert "not valid YAML" in result.stderr


def test_show_json_lists_every_device_with_attributes() -> None:
    result = _run("farm", "show", "small", "-o", "json")
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    node = document["nodes"][0]
    assert node["name"] == "drafarm-worker-0"
    names = [d["name"] for d in node["devices"]]
    assert "gpu-0" in names and "fpga-0" in names
    assert document["networkPools"][0]["devices"][0]["attributes"]["kind"] == {"string": "camera"}
    assert {c["name"] for c in node["sharedCounters"]} == {
        "gpu-0-counters",
        "gpu-1-counters",
        "gpu-2-counters",
    }


def test_show_seed_override_changes_identities() -> None:
    a = json.loads(_run("farm", "show", "small", "-o", "json").stdout)
    b = json.loads(_run("farm", "show", "small", "--seed", "43", "-o", "json").stdout)
    assert b["seed"] == 43
    assert a["nodes"][0]["devices"][0]["attributes"]["uuid"] != b["nodes"][0]["devices"][0]["attributes"]["uuid"]


def test_show_table_and_yaml() -> None:
    table = _run("farm", "show", "mixed")
    assert table.returncode == 0
    assert table.stdout.splitlines()[0].startswith("farm mixed  seed 7")
    assert "gpu-large-0" in table.stdout and "memory=80Gi" in table.stdout
    as_yaml = yaml.safe_load(_run("farm", "show", "mixed", "-o", "yaml").stdout)
    assert as_yaml["farm"] == "mixed"


def test_show_rejects_bad_seed() -> None:
    result = _run("farm", "show", "small", "--seed", "-5")
    assert result.returncode == 2
    assert "--seed" in result.stderr
