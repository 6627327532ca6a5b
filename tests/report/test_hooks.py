"""The report hooks in real pytest runs (subprocesses), with and without xdist."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

ALLOCATION = """
import pytest


def test_ok():
    pass


@pytest.mark.area("selectors")
def test_fails(record_property):
    record_property("diagnostics", "claim alloc/c1 status: <pending> & waiting")
    print("plugin log tail: prepare failed")
    assert 1 == 2, "device <gpu-0> missing"


@pytest.mark.skip(reason="needs DRAPartitionableDevices gate")
def test_skipped():
    pass


@pytest.fixture
def broken():
    raise RuntimeError("fixture broke")


def test_errors(broken):
    pass


@pytest.mark.xfail(reason="known scheduler bug")
def test_xfails():
    assert False
"""

SHARING = """
import pytest

from harness.report import set_farm_snapshot, set_run_metadata


@pytest.fixture(scope="session", autouse=True)
def cluster(pytestconfig):
    set_run_metadata(pytestconfig, kubernetes_version="v1.34.1", driver="gpu.drafarm.dev", profile="fake")
    yield
    set_farm_snapshot(pytestconfig, {
        "nodes": [{"name": "node-x", "devices": [
            {"name": "gpu-7", "kind": "gpu", "state": "shared", "claims": ["a/one", "b/two"]},
            {"name": "gpu-8", "kind": "gpu", "state": "unhealthy", "claims": []},
        ]}],
        "pools": [],
    })


@pytest.mark.area("timeslicing")
@pytest.mark.parametrize("n", range(4))
def test_share(n):
    pass
"""

TOOLS = """
def test_tool():
    pass
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    for path, body in {
        "suites/allocation/test_basic.py": ALLOCATION,
        "suites/sharing/test_share.py": SHARING,
        "tests/test_tools.py": TOOLS,
    }.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(textwrap.dedent(body))
    return tmp_path


def run_pytest(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "PYTHONPATH"))}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "harness.report.hooks", "-p", "no:cacheprovider", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def check_reports(out: Path, *, workers: int) -> dict[str, Any]:
    results: dict[str, Any] = json.loads((out / "results.json").read_text())
    expected = {"passed": 6, "failed": 1, "error": 1, "skipped": 1, "xfailed": 1, "xpassed": 0, "total": 10}
    assert results["counts"] == expected
    meta = results["metadata"]
    assert meta["counts"] == expected
    assert meta["kubernetes_version"] == "v1.34.1"  # set on a worker under xdist
    assert meta["driver"] == "gpu.drafarm.dev"
    assert meta["profile"] == "fake"
    assert meta["workers"] == workers
    assert meta["started"] <= meta["finished"]
    tests = {t["nodeid"]: t for t in results["tests"]}
    assert len(tests) == 10
    failed = tests["suites/allocation/test_basic.py::test_fails"]
    assert (failed["suite"], failed["area"], failed["outcome"]) == ("allocation", "selectors", "failed")
    assert "device <gpu-0> missing" in failed["diagnostics"]
    assert "claim alloc/c1 status: <pending> & waiting" in failed["diagnostics"]
    assert "plugin log tail: prepare failed" in failed["diagnostics"]
    errored = tests["suites/allocation/test_basic.py::test_errors"]
    assert (errored["outcome"], errored["failed_phase"], errored["area"]) == ("error", "setup", "basic")
    assert "fixture broke" in errored["diagnostics"]
    skipped = tests["suites/allocation/test_basic.py::test_skipped"]
    assert (skipped["outcome"], skipped["skip_reason"]) == ("skipped", "needs DRAPartitionableDevices gate")
    assert tests["suites/allocation/test_basic.py::test_xfails"]["skip_reason"] == "known scheduler bug"
    assert tests["suites/sharing/test_share.py::test_share[3]"]["area"] == "timeslicing"
    assert tests["tests/test_tools.py::test_tool"]["suite"] == "tests"
    assert tests["tests/test_tools.py::test_tool"]["area"] == "tools"
    assert all(t["duration"] >= 0 for t in tests.values())
    if workers > 1:
        assert {t["worker"] for t in tests.values()} <= {"gw0", "gw1"}
        assert len({t["worker"] for t in tests.values()}) == 2

    suite = ET.parse(out / "junit.xml").getroot()
    suite = suite if suite.tag == "testsuite" else suite.find("testsuite")  # type: ignore[assignment]
    assert suite is not None
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors"), suite.get("skipped")) == (
        "10",
        "1",
        "1",
        "2",
    )

    page = (out / "report.html").read_text()
    assert '<td class="c-fail" title="0 passed, 1 failed or errored, 0 skipped">1 ✗ · 0/1</td>' in page
    assert '<td class="c-pass" title="4 passed, 0 failed or errored, 0 skipped">4/4</td>' in page
    assert "<th>sharing</th>" in page and '<th class="col">timeslicing</th>' in page
    assert "device &lt;gpu-0&gt; missing" in page and "device <gpu-0>" not in page
    assert "&lt;pending&gt; &amp; waiting" in page
    assert "needs DRAPartitionableDevices gate" in page
    assert "<svg" in page and "node-x" in page
    assert "<title>gpu-7 (gpu)\nstate: shared\nclaims: a/one, b/two</title>" in page
    assert "v1.34.1" in page
    return results


def test_serial_run_writes_all_three_reports(project: Path) -> None:
    proc = run_pytest(project, "--drafarm-report-dir", "out")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "drafarm report: " in proc.stdout
    check_reports(project / "out", workers=1)


def test_xdist_run_collects_on_the_controller(project: Path) -> None:
    proc = run_pytest(project, "-n", "2", "--drafarm-report-dir", "out")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    check_reports(project / "out", workers=2)


def test_default_dir_and_explicit_junitxml(project: Path) -> None:
    proc = run_pytest(project, "--junitxml", "mine.xml", "suites/sharing")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (project / "mine.xml").is_file()
    assert not (project / "reports" / "junit.xml").exists()
    results = json.loads((project / "reports" / "results.json").read_text())
    assert results["counts"]["passed"] == 4
    assert (project / "reports" / "report.html").is_file()


def test_empty_dir_writes_nothing(project: Path) -> None:
    proc = run_pytest(project, "--drafarm-report-dir=", "suites/sharing")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert not (project / "reports").exists()
    assert "drafarm report" not in proc.stdout


def test_collection_error_is_reported(project: Path) -> None:
    (project / "suites" / "health").mkdir()
    (project / "suites" / "health" / "test_broken.py").write_text("import no_such_module_here\n")
    proc = run_pytest(project, "--drafarm-report-dir", "out", "suites/health")
    assert proc.returncode == 2, proc.stdout + proc.stderr
    results = json.loads((project / "out" / "results.json").read_text())
    (test,) = results["tests"]
    assert (test["suite"], test["area"], test["outcome"]) == ("health", "broken", "error")
    assert "no_such_module_here" in test["diagnostics"]
