"""`drafarm scenario ...`: check, run and capture scenario files (docs/scenarios.md)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from clusters.provider import ClusterError
from clusters.toolchain import versions
from clusters.toolchain.lookup import ToolchainMissingError
from fakedevices.spec.problems import SpecError
from harness.scenario.capture import capture_scenario
from harness.scenario.loader import load_scenario, scenario_farm
from harness.scenario.plan import run_plan
from harness.scenario.play import play
from harness.scenario.report import as_expected, print_table
from harness.scenario.result import RunResult
from harness.scenario.schema import Scenario
from harness.scenario.side_scheduler import SideSchedulerError
from harness.scenario.target import TargetError

EXIT_INVALID = 2


def _load(path: str) -> Scenario:
    try:
        scenario = load_scenario(path)
        scenario_farm(scenario)
    except SpecError as exc:
        for line in str(exc).splitlines():
            click.echo(line, err=True)
        click.echo(f"{len(exc.problems)} problem(s) found; nothing was created.", err=True)
        sys.exit(EXIT_INVALID)
    return scenario


@click.group()
def scenario() -> None:
    """Scenario files: a DRA situation replayed on any Kubernetes version."""


@scenario.command()
@click.argument("files", nargs=-1, required=True)
def validate(files: tuple[str, ...]) -> None:
    """Check scenario FILES; exit 2 listing every problem."""
    for path in files:
        parsed = _load(path)
        click.echo(
            f"{path}: valid scenario {parsed.name!r}: "
            f"{len(parsed.steps)} steps, {len(parsed.expectations)} expectations"
        )


@scenario.command()
@click.argument("files", nargs=-1, required=True)
@click.option("--k8s-version", "k8s_versions", multiple=True, help="Run on this version (repeat for several).")
@click.option(
    "--expected-versions",
    type=click.Choice(["pair", "all"]),
    help="Run on the versions each file's `expect` names: the last bug and first fixed one (pair), or all.",
)
@click.option("--kubeconfig", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="Run on this cluster.")
@click.option("--provider", default="local", show_default=True, help="Provider whose cluster to use or bring up.")
@click.option("--replace", is_flag=True, help="Take down a running cluster of another version (no test may use it).")
@click.option("--keep-cluster", is_flag=True, help="Leave a cluster this command brought up running.")
@click.option("--record", type=click.Path(file_okay=False, path_type=Path), help="Keep objects, logs and results here.")
@click.option(
    "--scheduler-only",
    is_flag=True,
    help="Run only a kube-scheduler of each version, beside the running cluster's (bugs in the scheduler alone).",
)
def run(
    files: tuple[str, ...],
    k8s_versions: tuple[str, ...],
    expected_versions: str | None,
    kubeconfig: Path | None,
    provider: str,
    replace: bool,
    keep_cluster: bool,
    record: Path | None,
    scheduler_only: bool,
) -> None:
    """Run each FILE's steps and judge its expectations; exit 1 unless every run behaved as `expect` says.

    Runs are grouped by version, so each cluster comes up once."""
    parsed = [_load(path) for path in files]
    plan = run_plan(parsed, k8s_versions, expected_versions)
    results: list[tuple[Scenario, RunResult]] = []
    for version, scenario in plan:
        where = record / scenario.name / (version or "running") if record is not None else None
        try:
            # With --expected-versions, a bug in the scheduler alone runs on a scheduler beside the cluster's.
            beside = scheduler_only or (bool(expected_versions) and scenario.bug_in == "kube-scheduler")
            result = play(
                scenario,
                version=None if beside else version,
                scheduler_version=version if beside else None,
                kubeconfig=kubeconfig,
                provider=provider,
                replace=replace,
                keep=keep_cluster,
                record=where,
                out=click.echo,
            )
        except (TargetError, ClusterError, SpecError, SideSchedulerError, ToolchainMissingError) as exc:
            if len(plan) == 1:
                raise click.ClickException(str(exc)) from exc
            click.echo(f"{scenario.name} on {version or 'the running cluster'}: cannot run: {exc}", err=True)
            result = RunResult(scenario.name, versions.resolve(version).kubernetes if version else "running")
            result.reason = f"cannot run: {exc}"
        results.append((scenario, result))
    if len(results) > 1:
        print_table(results, click.echo)
    if not all(as_expected(s, r) for s, r in results):
        sys.exit(1)


@scenario.command()
@click.option("--kubeconfig", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=True)
@click.option("-n", "--namespace", "namespaces", multiple=True, help="Capture pods and claims of this namespace.")
@click.option("--name", default="captured", show_default=True, help="The scenario's metadata.name.")
@click.option("--farm", default="small", show_default=True, help="The farm the scenario replays on.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write here (default: stdout).")
@click.option(
    "--driver-map", multiple=True, metavar="OLD=NEW", help="Rename a driver (e.g. gpu.example.com=drafarm.dev)."
)
def capture(
    kubeconfig: Path,
    namespaces: tuple[str, ...],
    name: str,
    farm: str,
    output: Path | None,
    driver_map: tuple[str, ...],
) -> None:
    """Write a scenario from a running cluster's DRA objects (classes, slices, claims, pods)."""
    renames = {}
    for item in driver_map:
        old, sep, new = item.partition("=")
        if not sep or not old or not new:
            raise click.BadParameter(f"{item!r}: expected OLD=NEW", param_hint="--driver-map")
        renames[old] = new
    text = capture_scenario(kubeconfig, namespaces, name, farm, renames)
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text)
        click.echo(f"wrote {output}", err=True)
