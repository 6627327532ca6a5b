"""One scenario on one cluster, start to end: find the cluster, run, print the verdict."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path

from harness.scenario.loader import scenario_farm
from harness.scenario.report import print_result
from harness.scenario.result import RunResult
from harness.scenario.runner import Runner
from harness.scenario.schema import Scenario
from harness.scenario.target import Target, TargetError, from_kubeconfig, from_provider

Printer = Callable[[str], None]


def play(
    scenario: Scenario,
    *,
    version: str | None = None,
    kubeconfig: Path | None = None,
    provider: str = "local",
    replace: bool = False,
    keep: bool = False,
    record: Path | None = None,
    out: Printer = print,
) -> RunResult:
    farm = scenario_farm(scenario)
    target: AbstractContextManager[Target]
    if kubeconfig is not None:
        target = from_kubeconfig(kubeconfig, farm.farm.driver)
    else:
        target = from_provider(provider, version, farm, replace=replace, keep=keep, out=out)
    with target as cluster:
        if kubeconfig is not None and version and not cluster.version.lstrip("v").startswith(version.lstrip("v")):
            raise TargetError(f"--kubeconfig {kubeconfig} reaches Kubernetes {cluster.version}, not {version}")
        out(f"== {scenario.name} on Kubernetes {cluster.version}")
        served = len(cluster.deployment.nodes) if cluster.deployment is not None else len(cluster.kube.items("Node"))
        if served < scenario.nodes:
            result = RunResult(scenario.name, cluster.version)
            result.reason = (
                f"skipped: needs {scenario.nodes} nodes with the farm's devices; this cluster has {served} "
                "(the local provider has one node; the kind provider has one per farm node)"
            )
        else:
            result = Runner(scenario, cluster, out).run(record)
    print_result(scenario, result, out)
    return result
