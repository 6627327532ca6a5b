"""A toolchain build reports each step as a line: what builds, how long it took, its log, what is left."""

from __future__ import annotations

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
