"""One scenario on one cluster, start to end: find the cluster, run, print the verdict."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager, ExitStack
from pathlib import Path

from harness.scenario.loader import scenario_farm
from harness.scenario.report import print_result
from harness.scenario.result import RunResult
from harness.scenario.runner import Runner
from harness.scenario.schema import Scenario
from harness.scenario.side_scheduler import SCHEDULER_NAME, SideScheduler
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
    scheduler_version: str | None = None,
    out: Printer = print,
) -> RunResult:
    """`scheduler_version`: run a kube-scheduler of that version beside the cluster's for the scenario's
    pods (bugs in the scheduler alone, on a shared cluster of another version)."""
    farm = scenario_farm(scenario)
    target: AbstractContextManager[Target]
    if kubeconfig is not None:
        target = from_kubeconfig(kubeconfig, farm.farm.driver)
    else:
        target = from_provider(provider, version, farm, replace=replace, keep=keep, out=out)
    with ExitStack() as stack:
        cluster = stack.enter_context(target)
        if kubeconfig is not None and version and not cluster.version.lstrip("v").startswith(version.lstrip("v")):
            raise TargetError(f"--kubeconfig {kubeconfig} reaches Kubernetes {cluster.version}, not {version}")
        if scheduler_version:
            side = SideScheduler(scheduler_version, cluster.kube.kubeconfig)
            stack.callback(side.close)
            out(f"starting kube-scheduler {side.version} beside the cluster's (schedulerName {SCHEDULER_NAME})")
            side.start(lambda text: out(f"  {text}"))
            cluster.scheduler = side
            cluster.logs.overrides["kube-scheduler"] = side.log
        out(
            f"== {scenario.name} on Kubernetes {cluster.version}"
            + (f", kube-scheduler {cluster.behaves_as}" if scheduler_version else "")
        )
        deployment = cluster.deployment
        served = len(deployment.nodes) + len(deployment.virtual) if deployment else len(cluster.kube.items("Node"))
        if served < scenario.nodes:
            result = RunResult(scenario.name, cluster.behaves_as)
            result.reason = (
                f"skipped: needs {scenario.nodes} nodes with the farm's devices; this cluster has {served} "
                "(the local provider has one node, plus the farm's virtual node groups; the kind provider has "
                "one per farm node)"
            )
        else:
            result = Runner(scenario, cluster, out).run(record)
    print_result(scenario, result, out)
    return result
