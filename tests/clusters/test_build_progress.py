"""A toolchain build reports each step as a line: what builds, how long it took, its log, what is left."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from clusters.toolchain import components
from clusters.toolchain.progress import BuildProgress
from clusters.toolchain.versions import DEFAULT


def test_each_build_step_is_a_line_with_its_log_and_an_estimate() -> None:
    lines: list[str] = []
    modules = components.modules(DEFAULT, components.CLUSTER_MODULES)
    k8s = next(m for m in modules if m.name == "kubernetes")
    with BuildProgress(DEFAULT, lines.append) as progress:
        for module in modules:
            for binary in module.binaries:
                progress(module.key, binary.name, "start")
                if module is k8s:
                    progress(module.key, binary.name, "building")
                    progress(module.key, binary.name, "built")
                else:
                    progress(module.key, binary.name, "cached")
    building = [line for line in lines if line.startswith("building ")]
    assert len(building) == len(k8s.binaries)
    assert f"log {k8s.key}" not in building[0] and "toolchain/logs" in building[0], building[0]
    assert "left for the rest" in building[0]
    assert lines[-1].startswith(f"{k8s.key}/{k8s.binaries[-1].name}: built in ")
    assert "left for the rest" not in lines[-1], "nothing is left once the last binary is built"


def test_a_build_into_a_log_file_prints_its_steps_as_lines(tmp_path: Path) -> None:
    """Not a live display that shows only at the end: CI logs and `> build.log` see each step as it goes.
    A `go` that fails every build keeps it short; `go env` still answers, as the builder asks it."""
    fake_go = tmp_path / "go"
    fake_go.write_text(
        '#!/bin/sh\ncase "$1" in version) echo "go version go1.26.0 linux/amd64";; env) exec go "$@";; '
        '*) echo "no build here" >&2; exit 1;; esac\n'
    )
    fake_go.chmod(0o755)
    env = {**os.environ, "DRAFARM_GO": str(fake_go), "DRAFARM_CACHE_DIR": str(tmp_path / "cache")}
    env["PATH"] = f"{os.environ.get('PATH', '')}:/usr/local/go/bin"
    result = subprocess.run(
        [sys.executable, "-m", "harness", "toolchain", "build", "--only", "crictl"],
        capture_output=True, text=True, timeout=120, env=env, check=False,
    )  # fmt: skip
    lines = result.stderr.splitlines()
    crictl = next(m for m in components.modules(DEFAULT, ("crictl",)))
    log = str(tmp_path / "cache" / "toolchain" / "logs" / f"{crictl.key}.log")
    assert any(line.startswith(f"building {crictl.key}/crictl (log {log})") for line in lines), result.stderr
    assert any(line.startswith(f"{crictl.key}/crictl: failed in ") for line in lines), result.stderr
