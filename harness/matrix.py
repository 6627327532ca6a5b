"""`drafarm matrix`: one suite slice on several Kubernetes versions, one after another, and one report
with a version column. Each version runs in its own pytest process on a local cluster of that version;
a free cluster of another version is taken down for the run (`replace`) and brought back afterwards."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

from clusters import paths, shared
from clusters import provider as providers
from clusters.toolchain import versions as pinned
from harness.outcome_table import OutcomeTable, html_page, text_rows
from harness.scenario.target import replaced_cluster

Printer = Callable[[str], None]


class Matrix(OutcomeTable):
    """One column per Kubernetes release."""

    @property
    def versions(self) -> list[str]:
        return self.columns


def run_matrix(
    versions: list[str],
    test_paths: list[str],
    mark: str,
    report_dir: Path,
    *,
    workers: str = "2",
    provider: str = "local",
    replace: bool = False,
    out: Printer = print,
) -> Matrix:
    releases = [pinned.resolve(v).kubernetes for v in versions]
    matrix = Matrix(releases)
    with ExitStack() as stack:
        restores = False
        for release in releases:
            status = providers.get(provider, k8s_version=release).status()
            if status.running and status.kubernetes_version != release:
                # The first replaced cluster comes back at the end; later ones were this run's own.
                if not restores:
                    stack.enter_context(replaced_cluster(provider, status.kubernetes_version, release, replace, out))
                    restores = True
                else:
                    _take_down(provider, status.kubernetes_version)
            target = report_dir / release
            out(f"== {release}: pytest {' '.join(test_paths)} -m {mark!r}")
            cmd = [sys.executable, "-m", "pytest", "-n", workers, *test_paths, "--drafarm-k8s-version", release]
            cmd += ["--drafarm-cluster", provider, "--drafarm-report-dir", str(target)]
            if mark:
                cmd += ["-m", mark]
            code = subprocess.run(cmd, check=False).returncode
            matrix.add(release, target / "results.json", code)
        if len(releases) > 1:
            _take_down(provider, releases[-1])
    write(matrix, report_dir)
    print_matrix(matrix, out)
    return matrix


def _take_down(provider: str, version: str) -> None:
    cluster = providers.get(provider, k8s_version=version)
    if cluster.status().running and not shared.live_users(cluster, paths.state_root()):
        cluster.down()


def write(matrix: Matrix, report_dir: Path) -> None:
    report_dir.mkdir(parents=True, exist_ok=True)
    data = {"versions": matrix.versions, "exitCodes": matrix.exit_codes, "tests": matrix.outcomes}
    (report_dir / "matrix.json").write_text(json.dumps(data, indent=2) + "\n")
    summary = f"{len(matrix.differing())} test(s) differ between versions (bold)."
    (report_dir / "matrix.html").write_text(html_page(matrix, "drafarm version matrix", summary, None))


def print_matrix(matrix: Matrix, out: Printer) -> None:
    for line in text_rows(matrix):
        out(line)
    differing = matrix.differing()
    out(f"{len(differing)} test(s) differ between versions" + (": " + ", ".join(differing) if differing else ""))
