"""Running the conformance suite as a vendor does (a pytest subprocess through a profile) and reading
what it found from its `results.json`, not only from its exit code."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from clusters.local.provider import LocalProvider
from fakedevices.plugin.layout import DYNAMIC_CDI_DIR

ROOT = Path(__file__).resolve().parents[2]
CONFORMANCE = ROOT / "suites" / "conformance"


@dataclass(frozen=True)
class ConformanceRun:
    returncode: int
    stdout: str
    results: dict[str, Any]

    @property
    def counts(self) -> dict[str, int]:
        return {str(k): int(v) for k, v in (self.results.get("counts") or {}).items()}

    def count(self, outcome: str) -> int:
        return self.counts.get(outcome, 0)

    @property
    def tests(self) -> list[dict[str, Any]]:
        return list(self.results.get("tests") or [])

    def skips(self) -> dict[str, str]:
        return {t["nodeid"]: t.get("skip_reason", "") for t in self.tests if t.get("outcome") == "skipped"}

    def failing(self) -> dict[str, str]:
        return {t["nodeid"]: t.get("diagnostics", "") for t in self.tests if t.get("outcome") in ("failed", "error")}

    def summary(self) -> str:
        lines = [f"exit {self.returncode}, counts {self.counts}"]
        lines += [f"  skipped {n}: {r}" for n, r in self.skips().items()]
        lines += [f"  FAILED {n}:\n{d[-1500:]}" for n, d in self.failing().items()]
        if not self.results:
            lines.append(f"no results.json; output:\n{self.stdout[-4000:]}")
        return "\n".join(lines)


def run_conformance(
    cluster: LocalProvider,
    profile: Path,
    report_dir: Path,
    *selection: str,
    timeout: float = 600,
    suites: tuple[Path, ...] = (),
) -> ConformanceRun:
    """`pytest suites/conformance[/<selection>]` (or the given `suites`) against `cluster` through
    `profile`, serially."""
    targets = [str(s) for s in suites] or [str(CONFORMANCE / s) for s in selection or ("",)]
    options = [
        "--drafarm-kubeconfig", str(cluster.kubeconfig()),
        "--drafarm-profile", str(profile),
        "--drafarm-node-cdi-dir", str(DYNAMIC_CDI_DIR),
    ]  # fmt: skip
    return run_suites([*targets, *options], report_dir, timeout)


def run_suites(args: list[str], report_dir: Path, timeout: float, env: dict[str, str] | None = None) -> ConformanceRun:
    """`pytest ARGS` from the project's root, its report in `report_dir`."""
    command = [
        sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "--no-header", "-o", "addopts=",
        *args, "--drafarm-report-dir", str(report_dir),
    ]  # fmt: skip
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}, **(env or {})}
    proc = subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=ROOT, env=env, check=False)
    results_file = report_dir / "results.json"
    results = json.loads(results_file.read_text()) if results_file.exists() else {}
    return ConformanceRun(proc.returncode, proc.stdout + proc.stderr, results)
