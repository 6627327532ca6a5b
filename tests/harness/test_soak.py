"""The soak: the same pytest run repeated; per test the runs it failed, and a flaky column."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

from harness.soak import run_soak

SAMPLE = """
import os

def test_steady():
    pass

def test_fails_on_the_second_run():
    assert os.environ["DRAFARM_SOAK_RUN"] != "2"

def test_always_broken():
    assert False
"""


def test_a_soak_counts_each_tests_failed_runs_and_names_the_flaky_ones(tmp_path: Path) -> None:
    (tmp_path / "sample").mkdir()
    (tmp_path / "sample" / "test_sample.py").write_text(SAMPLE)
    lines: list[str] = []
    args = [str(tmp_path / "sample"), "-p", "no:cacheprovider", "--rootdir", str(tmp_path)]
    soak = run_soak(3, args, tmp_path / "report", contextlib.nullcontext(), out=lines.append)

    assert [n.split("::")[-1] for n in soak.flaky()] == ["test_fails_on_the_second_run"]
    assert [n.split("::")[-1] for n in soak.always_failing()] == ["test_always_broken"]
    data = json.loads((tmp_path / "report" / "soak.json").read_text())
    by_name = {n.split("::")[-1]: t for n, t in data["tests"].items()}
    assert by_name["test_steady"] == {"runs": 3, "failedRuns": 0, "flaky": False, "outcomes": ["passed"] * 3}
    assert by_name["test_fails_on_the_second_run"]["failedRuns"] == 1
    assert by_name["test_fails_on_the_second_run"]["outcomes"] == ["passed", "failed", "passed"]
    assert data["figure"] == "0/3 runs passed (3 planned); 1 flaky test(s), 1 failing in every run, of 3"
    page = (tmp_path / "report" / "soak.html").read_text()
    assert "<th>flaky (failed runs)</th>" in page and "<td>1/3 flaky</td>" in page
    assert (tmp_path / "report" / "run-02" / "results.json").is_file()
    assert any("run 2: exit 1" in line and "test_fails_on_the_second_run" in line for line in lines)
