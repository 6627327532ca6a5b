"""The scheduler bugs among the shipped scenarios, on the versions around their fixes: a kube-scheduler
of each version beside the shared cluster's shows the bug on the affected release and not on the fixed
one. A version whose kube-scheduler is not built yet is skipped with the command that builds it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from clusters.local.provider import LocalProvider
from clusters.toolchain import builder, components, versions
from harness.scenario.loader import load_scenario
from harness.scenario.plan import expected_versions
from harness.scenario.play import play
from harness.scenario.report import as_expected

pytestmark = [pytest.mark.e2e, pytest.mark.scenario_heavy]
ROOT = Path(__file__).resolve().parents[2]
SCHEDULER_BUGS = [
    s for s in map(load_scenario, sorted((ROOT / "scenarios").glob("*.yaml"))) if s.bug_in == "kube-scheduler"
]
CASES = [(s.name, version) for s in SCHEDULER_BUGS for version in expected_versions(s, "pair")]


def _scheduler_built(version: str) -> bool:
    (module,) = components.modules(versions.resolve(version), ("kubernetes",))
    only = components.with_binary(module, "kube-scheduler")
    return os.access(builder.binary_path(only, only.binaries[0]), os.X_OK)


@pytest.mark.parametrize(("name", "version"), CASES, ids=[f"{n}-{v}" for n, v in CASES])
def test_the_bug_shows_on_the_affected_release_and_not_on_the_fixed_one(
    farm_cluster: LocalProvider, name: str, version: str
) -> None:
    if not _scheduler_built(version):
        pytest.skip(
            f'kube-scheduler {version} is not built: python -c "from clusters.toolchain import lookup, versions; '
            f"lookup.program(versions.resolve('{version}'), 'kubernetes', 'kube-scheduler')\""
        )
    scenario = load_scenario(ROOT / "scenarios" / f"{name}.yaml")
    lines: list[str] = []
    result = play(scenario, scheduler_version=version, out=lines.append)
    wanted = scenario.versions.expected(version)
    assert result.verdict == wanted, "\n".join(lines)
    assert as_expected(scenario, result)
