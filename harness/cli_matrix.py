"""`drafarm matrix`: a suite slice on several Kubernetes versions, one report with a version column."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from clusters.provider import ClusterError
from clusters.toolchain import versions
from harness.matrix import run_matrix
from harness.scenario.target import TargetError


@click.command()
@click.argument("test_paths", nargs=-1)
@click.option("--k8s-version", "k8s_versions", multiple=True, required=True, help="A version (repeat: two or more).")
@click.option("-m", "mark", default="smoke", show_default=True, help="pytest marker expression of the slice.")
@click.option("--report-dir", type=click.Path(file_okay=False, path_type=Path), default=Path("reports/matrix"))
@click.option("-n", "workers", default="2", show_default=True, help="pytest-xdist workers per version.")
@click.option("--provider", default="local", show_default=True)
@click.option("--replace", is_flag=True, help="Take down a free running cluster of another version (it comes back).")
def matrix(
    test_paths: tuple[str, ...],
    k8s_versions: tuple[str, ...],
    mark: str,
    report_dir: Path,
    workers: str,
    provider: str,
    replace: bool,
) -> None:
    """Run TEST_PATHS (default: suites) on each --k8s-version; write matrix.html and matrix.json."""
    try:
        for version in k8s_versions:
            versions.resolve(version)
        result = run_matrix(
            list(k8s_versions),
            list(test_paths or ("suites",)),
            mark,
            report_dir,
            workers=workers,
            provider=provider,
            replace=replace,
            out=click.echo,
        )
    except (versions.VersionError, TargetError, ClusterError) as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"report: {report_dir / 'matrix.html'}")
    if any(code not in (0, 5) for code in result.exit_codes.values()):
        sys.exit(1)
