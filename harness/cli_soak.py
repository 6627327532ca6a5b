"""`drafarm soak`: repeat a pytest run against one cluster; a flaky column per test."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from clusters.provider import ClusterError
from clusters.toolchain import versions
from harness.soak import cluster_hold, run_soak


@click.command(context_settings={"ignore_unknown_options": True})
@click.option("--runs", type=click.IntRange(min=1, max=1000), default=20, show_default=True, help="How many runs.")
@click.option("--report-dir", type=click.Path(file_okay=False, path_type=Path), default=Path("reports/soak"))
@click.option("--provider", default="local", show_default=True, help="The cluster provider every run uses.")
@click.option("--k8s-version", default=None, help="Kubernetes version of the cluster (default: the default).")
@click.argument("pytest_args", nargs=-1, type=click.UNPROCESSED)
def soak(runs: int, report_dir: Path, provider: str, k8s_version: str | None, pytest_args: tuple[str, ...]) -> None:
    """Run pytest with PYTEST_ARGS (default: -n 2 suites) RUNS times against one cluster; write soak.html and
    soak.json (per test: the runs it failed) and each run's report under REPORT_DIR/run-NN."""
    try:
        if k8s_version:
            versions.resolve(k8s_version)
        args = [*(pytest_args or ("-n", "2", "suites")), "--drafarm-cluster", provider]
        args += ["--drafarm-k8s-version", k8s_version] if k8s_version else []
        result = run_soak(runs, args, report_dir, cluster_hold(provider, k8s_version), out=click.echo)
    except (versions.VersionError, ClusterError) as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"report: {report_dir / 'soak.html'}")
    if result.flaky() or result.always_failing():
        sys.exit(1)
