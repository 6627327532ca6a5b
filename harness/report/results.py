"""Test results gathered from pytest reports: one record per test, merged over its setup/call/teardown."""

from __future__ import annotations

import dataclasses
import json
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

OUTCOMES = ("passed", "failed", "error", "skipped", "xfailed", "xpassed")
FAILING = frozenset({"failed", "error"})
SCHEMA = "drafarm.report/v1"

# Set on each TestReport by the worker (see hooks.py) so the controller knows the test's area.
AREA_ATTRIBUTE = "drafarm_area"


@dataclass
class TestResult:
    """One test, as the report shows it."""

    __test__ = False  # not a pytest test class

    nodeid: str
    suite: str
    area: str
    outcome: str = "passed"
    duration: float = 0.0
    skip_reason: str = ""
    diagnostics: str = ""
    failed_phase: str = ""
    worker: str = ""

    @property
    def failing(self) -> bool:
        return self.outcome in FAILING


def suite_of(nodeid: str) -> str:
    """`suites/<name>/...` gives `<name>`; any other path gives its top directory (`tests`); else `root`."""
    parts = nodeid.split("::", 1)[0].split("/")
    if len(parts) > 2 and parts[0] == "suites":
        return parts[1]
    if len(parts) > 1:
        return parts[0]
    return "root"


def module_area(nodeid: str) -> str:
    """The area of a test without an `area` marker: its module's name without the `test_` prefix."""
    stem = nodeid.split("::", 1)[0].rsplit("/", 1)[-1].removesuffix(".py")
    return stem.removeprefix("test_").removesuffix("_test") or stem


def area_of_item(item: pytest.Item) -> str:
    marker = item.get_closest_marker("area")
    if marker is not None:
        value = marker.args[0] if marker.args else marker.kwargs.get("name")
        if value:
            return str(value)
    return module_area(item.nodeid)


def _skip_reason(longrepr: Any) -> str:
    if isinstance(longrepr, tuple | list) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")
    return str(longrepr or "")


def _sections_text(report: pytest.TestReport | pytest.CollectReport) -> str:
    chunks = []
    for name, value in report.user_properties if isinstance(report, pytest.TestReport) else ():
        if name == "diagnostics" and value:
            chunks.append(f"----- diagnostics -----\n{value}")
    for title, content in report.sections:
        if content.strip():
            chunks.append(f"----- {title} -----\n{content.rstrip()}")
    return "\n\n".join(chunks)


class ResultsCollector:
    """Collects reports in the process that sees them all (the xdist controller, or the only process)."""

    def __init__(self) -> None:
        self._results: dict[str, TestResult] = {}

    def add_test_report(self, report: pytest.TestReport) -> None:
        result = self._results.get(report.nodeid)
        if result is None:
            area = getattr(report, AREA_ATTRIBUTE, None) or module_area(report.nodeid)
            result = TestResult(report.nodeid, suite_of(report.nodeid), str(area))
            self._results[report.nodeid] = result
        result.duration += float(report.duration or 0.0)
        worker = getattr(report, "worker_id", None)
        if worker:
            result.worker = str(worker)
        wasxfail = getattr(report, "wasxfail", None)
        if report.when == "setup":
            if report.skipped:
                result.outcome = "xfailed" if wasxfail is not None else "skipped"
                result.skip_reason = str(wasxfail) if wasxfail else _skip_reason(report.longrepr)
            elif report.failed:
                self._fail(result, report, "error")
        elif report.when == "call":
            if report.passed:
                result.outcome = "xpassed" if wasxfail is not None else "passed"
            elif report.skipped:
                result.outcome = "xfailed" if wasxfail is not None else "skipped"
                result.skip_reason = str(wasxfail) if wasxfail else _skip_reason(report.longrepr)
            else:
                self._fail(result, report, "failed")
        elif report.failed:  # teardown
            self._fail(result, report, result.outcome if result.failing else "error")

    def add_collect_report(self, report: pytest.CollectReport) -> None:
        if not report.failed:
            return
        nodeid = report.nodeid or "(collection)"
        result = TestResult(nodeid, suite_of(nodeid), module_area(nodeid), outcome="error")
        self._results[nodeid] = result
        self._fail(result, report, "error", phase="collect")

    @staticmethod
    def _fail(
        result: TestResult, report: pytest.TestReport | pytest.CollectReport, outcome: str, phase: str = ""
    ) -> None:
        result.outcome = outcome
        phase = phase or str(getattr(report, "when", ""))
        result.failed_phase = f"{result.failed_phase}+{phase}" if result.failed_phase else phase
        text = report.longreprtext.rstrip()
        extra = _sections_text(report)
        body = "\n\n".join(part for part in (text, extra) if part)
        header = f"===== {phase} =====\n" if result.diagnostics or phase == "teardown" else ""
        result.diagnostics = "\n\n".join(part for part in (result.diagnostics, header + body) if part)

    def results(self) -> list[TestResult]:
        return sorted(self._results.values(), key=lambda r: (r.suite, r.area, r.nodeid))


def count_outcomes(results: list[TestResult]) -> dict[str, int]:
    counts = dict.fromkeys(OUTCOMES, 0)
    for result in results:
        counts[result.outcome] = counts.get(result.outcome, 0) + 1
    counts["total"] = len(results)
    return counts


@dataclass
class RunReport:
    """Everything `results.json` holds; `report.html` is rendered from it alone."""

    metadata: dict[str, Any] = field(default_factory=dict)
    tests: list[TestResult] = field(default_factory=list)
    farm: dict[str, Any] | None = None

    @property
    def counts(self) -> dict[str, int]:
        return count_outcomes(self.tests)

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "metadata": self.metadata,
            "counts": self.counts,
            "tests": [dataclasses.asdict(t) for t in self.tests],
            "farm": self.farm,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> RunReport:
        names = {f.name for f in dataclasses.fields(TestResult)}
        tests = [TestResult(**{k: v for k, v in t.items() if k in names}) for t in data.get("tests") or []]
        return cls(dict(data.get("metadata") or {}), tests, data.get("farm"))


def write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_results_json(path: Path, run: RunReport) -> None:
    write_atomic(path, json.dumps(run.to_json(), indent=2, sort_keys=False, default=str) + "\n")
