"""pytest hooks that write drafarm's reports: `results.json`, `report.html` and `junit.xml`.

Load with `-p harness.report.hooks`, or from a plugin module with `pytest_plugins = ["harness.report.hooks"]`.
Results are collected where every report arrives: the xdist controller (which receives each worker's
reports through `pytest_runtest_logreport`) or the single process without xdist. Workers only tag their
reports with the test's feature area and pass on metadata (see metadata.py).
"""

from __future__ import annotations

from collections.abc import Generator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from harness.report.html import render_html
from harness.report.metadata import farm_snapshot, is_worker, merge_worker_output, run_metadata
from harness.report.results import AREA_ATTRIBUTE, ResultsCollector, RunReport, area_of_item, write_atomic
from harness.report.results import write_results_json as _write_results_json

DEFAULT_DIR = "reports"


class ReportSession:
    """The controller's collector, registered as a plugin per config (as pytest's junitxml does)."""

    def __init__(self, config: pytest.Config, directory: Path) -> None:
        self.config = config
        self.directory = directory
        self.collector = ResultsCollector()
        self.started = datetime.now(UTC)
        self.written: Path | None = None

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        self.started = datetime.now(UTC)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self.collector.add_test_report(report)

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        self.collector.add_collect_report(report)

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: object) -> None:
        """xdist: a worker finished; take the metadata and farm snapshot it recorded."""
        output = getattr(node, "workeroutput", None)
        if isinstance(output, dict):
            merge_worker_output(self.config, output)

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        if self.config.option.collectonly:
            return
        run = build_run_report(self.config, self, datetime.now(UTC))
        self.written = write_reports(self.directory, run)

    def pytest_terminal_summary(self, terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
        if self.written is not None:
            terminalreporter.write_sep("-", f"drafarm report: {self.written}")


STATE_KEY = pytest.StashKey[ReportSession]()


def report_dir(config: pytest.Config) -> Path | None:
    """The report directory, relative to where pytest was invoked; None when reports are off (empty)."""
    value = config.getoption("drafarm_report_dir", DEFAULT_DIR)
    if not value:
        return None
    return (config.invocation_params.dir / str(value)).resolve()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("drafarm")
    group.addoption(
        "--drafarm-report-dir",
        default=DEFAULT_DIR,
        metavar="DIR",
        help="write results.json, report.html and (unless --junitxml is given) junit.xml here "
        f"[default: {DEFAULT_DIR}/; empty to write no reports]",
    )


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "area(name): the feature area the test belongs to, a column of the report")
    directory = report_dir(config)
    if directory is None or is_worker(config):
        return
    # Runs before the junitxml plugin's pytest_configure, which reads xmlpath.
    if not getattr(config.option, "xmlpath", None):
        config.option.xmlpath = str(directory / "junit.xml")
    session = ReportSession(config, directory)
    config.stash[STATE_KEY] = session
    config.pluginmanager.register(session, "drafarm-report-session")


def pytest_unconfigure(config: pytest.Config) -> None:
    session = config.stash.get(STATE_KEY, None)
    if session is not None:
        del config.stash[STATE_KEY]
        config.pluginmanager.unregister(session)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, Any]:
    report = yield
    setattr(report, AREA_ATTRIBUTE, area_of_item(item))  # travels to the controller with the report
    return report


def build_run_report(config: pytest.Config, state: ReportSession, finished: datetime) -> RunReport:
    metadata: dict[str, Any] = {}
    workers = getattr(config.option, "numprocesses", None)
    metadata["workers"] = workers if workers else 1
    metadata.update(run_metadata(config))
    metadata["started"] = state.started.isoformat(timespec="seconds")
    metadata["finished"] = finished.isoformat(timespec="seconds")
    metadata["duration_s"] = round((finished - state.started).total_seconds(), 3)
    run = RunReport(metadata, state.collector.results(), farm_snapshot(config))
    metadata["counts"] = run.counts
    return run


def write_reports(directory: Path, run: RunReport) -> Path:
    """Write results.json and report.html into `directory`; returns the HTML path."""
    _write_results_json(directory / "results.json", run)
    html_path = directory / "report.html"
    write_atomic(html_path, render_html(run))
    return html_path
