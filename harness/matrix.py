"""`drafarm matrix`: one suite slice on several Kubernetes versions, one after another, and one report
with a version column. Each version runs in its own pytest process on a local cluster of that version;
a free cluster of another version is taken down for the run (`replace`) and brought back afterwards."""

from __future__ import annotations

import html
import json
import subprocess
import sys
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

from clusters import paths, shared
from clusters import provider as providers
from clusters.toolchain import versions as pinned
from harness.scenario.target import replaced_cluster

Printer = Callable[[str], None]


@dataclass
class Matrix:
    versions: list[str]
    outcomes: dict[str, dict[str, str]] = field(default_factory=dict)
    """nodeid -> version -> outcome."""
    exit_codes: dict[str, int] = field(default_factory=dict)

    def add(self, version: str, results: Path, exit_code: int) -> None:
        self.exit_codes[version] = exit_code
        try:
            tests = json.loads(results.read_text()).get("tests") or []
        except (OSError, ValueError):
            tests = []
        for test in tests:
            self.outcomes.setdefault(str(test["nodeid"]), {})[version] = str(test["outcome"])

    def differing(self) -> list[str]:
        return [n for n, row in sorted(self.outcomes.items()) if len({row.get(v, "-") for v in self.versions}) > 1]


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
    head = "".join(f"<th>{html.escape(v)}</th>" for v in matrix.versions)
    rows = []
    differing = set(matrix.differing())
    for nodeid, row in sorted(matrix.outcomes.items()):
        cells = "".join(
            f'<td class="{html.escape(row.get(v, "missing"))}">{html.escape(row.get(v, "-"))}</td>'
            for v in matrix.versions
        )
        mark = ' class="differs"' if nodeid in differing else ""
        rows.append(f"<tr{mark}><td>{html.escape(nodeid)}</td>{cells}</tr>")
    page = (
        "<!doctype html><meta charset=utf-8><title>drafarm version matrix</title><style>"
        "td,th{padding:2px 8px;font-family:monospace}.passed{background:#cfc}.failed,.error{background:#fcc}"
        ".skipped{background:#eee}tr.differs td:first-child{font-weight:bold}</style>"
        f"<h1>drafarm version matrix</h1><p>{len(differing)} test(s) differ between versions (bold).</p>"
        f"<table><tr><th>test</th>{head}</tr>{''.join(rows)}</table>"
    )
    (report_dir / "matrix.html").write_text(page)


def print_matrix(matrix: Matrix, out: Printer) -> None:
    width = max([len(n) for n in matrix.outcomes] + [4])
    out(f"{'test':<{width}} " + " ".join(f"{v:<10}" for v in matrix.versions))
    for nodeid, row in sorted(matrix.outcomes.items()):
        out(f"{nodeid:<{width}} " + " ".join(f"{row.get(v, '-'):<10}" for v in matrix.versions))
    differing = matrix.differing()
    out(f"{len(differing)} test(s) differ between versions" + (": " + ", ".join(differing) if differing else ""))
