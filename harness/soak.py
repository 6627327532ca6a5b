"""`drafarm soak`: the same pytest run repeated against one cluster, and per test how many runs it failed.

The cluster is held for the whole soak, so every run meets the same cluster (brought up by the first
run if it was not up, and taken down at the end only if the soak brought it up)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

from clusters import paths, shared
from clusters import provider as providers
from harness.outcome_table import FAILING, OutcomeTable, html_page

Printer = Callable[[str], None]
RUN_ENV = "DRAFARM_SOAK_RUN"
"""The run's number (1..N), in every run's environment."""


class Soak(OutcomeTable):
    """One column per run."""

    def flaky(self) -> list[str]:
        """Tests that failed in some runs and passed in others."""
        return [n for n, row in sorted(self.outcomes.items()) if self.failures(n) > 0 and "passed" in row.values()]

    def always_failing(self) -> list[str]:
        return [n for n, row in sorted(self.outcomes.items()) if row and self.failures(n) == len(row)]

    def figure(self) -> str:
        runs = len(self.exit_codes)
        clean = sum(1 for code in self.exit_codes.values() if code == 0)
        return (
            f"{clean}/{runs} runs passed ({len(self.columns)} planned); {len(self.flaky())} flaky test(s), "
            f"{len(self.always_failing())} failing in every run, of {len(self.outcomes)}"
        )


def run_soak(
    runs: int, pytest_args: Sequence[str], report_dir: Path, hold: AbstractContextManager[object], out: Printer = print
) -> Soak:
    """Run `pytest PYTEST_ARGS` RUNS times inside `hold` (what keeps the cluster up between runs)."""
    soak = Soak([f"run {i}" for i in range(1, runs + 1)])
    report_dir.mkdir(parents=True, exist_ok=True)
    with hold:
        for index, column in enumerate(soak.columns, start=1):
            target = report_dir / f"run-{index:02d}"
            cmd = [sys.executable, "-m", "pytest", *pytest_args, "--drafarm-report-dir", str(target)]
            log = report_dir / f"run-{index:02d}.log"
            out(f"== soak {column}/{runs}: pytest {' '.join(cmd[3:])} (output: {log})")
            started = time.monotonic()
            with log.open("w") as output:
                env = {**os.environ, RUN_ENV: str(index)}
                code = subprocess.run(cmd, check=False, env=env, stdout=output, stderr=subprocess.STDOUT).returncode
            soak.add(column, target / "results.json", code)
            failing = sorted(n for n, row in soak.outcomes.items() if row.get(column) in FAILING)
            verdict = f"failed: {', '.join(failing)}" if failing else "no test failed"
            out(f"   {column}: exit {code} in {time.monotonic() - started:.0f} s; {verdict}")
            write(soak, report_dir)
    print_soak(soak, out)
    return soak


@contextmanager
def cluster_hold(provider: str, k8s_version: str | None) -> Iterator[None]:
    """The soak's own hold on the shared cluster: every run meets the same cluster."""
    cluster = providers.get(provider, k8s_version=k8s_version)
    shared.acquire(cluster, paths.state_root())
    try:
        yield
    finally:
        shared.release(cluster, paths.state_root())


def write(soak: Soak, report_dir: Path) -> None:
    """soak.json (per test: runs, failed runs, outcomes) and soak.html (a cell per run and a flaky column)."""
    report_dir.mkdir(parents=True, exist_ok=True)
    flaky = set(soak.flaky())
    tests = {
        nodeid: {
            "runs": len(row),
            "failedRuns": soak.failures(nodeid),
            "flaky": nodeid in flaky,
            "outcomes": [row.get(c, "-") for c in soak.columns],
        }
        for nodeid, row in sorted(soak.outcomes.items())
    }
    data = {"runs": len(soak.columns), "exitCodes": soak.exit_codes, "figure": soak.figure(), "tests": tests}
    (report_dir / "soak.json").write_text(json.dumps(data, indent=2) + "\n")

    def flaky_cell(nodeid: str) -> str:
        failed = soak.failures(nodeid)
        return f"{failed}/{len(soak.outcomes[nodeid])}" + (" flaky" if nodeid in flaky else "")

    page = html_page(soak, "drafarm soak", soak.figure() + ".", ("flaky (failed runs)", flaky_cell))
    (report_dir / "soak.html").write_text(page)


def print_soak(soak: Soak, out: Printer) -> None:
    for nodeid in soak.flaky():
        out(f"flaky: {nodeid} failed {soak.failures(nodeid)} of {len(soak.outcomes[nodeid])} runs")
    for nodeid in soak.always_failing():
        out(f"failing: {nodeid} failed every run")
    out(soak.figure())
