"""report.html: self-contained, escaped, with the matrix, failures, skips and the farm picture."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

from harness.report.farm_picture import farm_svg
from harness.report.html import render_html
from harness.report.results import RunReport, TestResult
from tests.report.sample import sample_run


def test_sample_report_has_header_matrix_failures_skips_and_farm() -> None:
    page = render_html(sample_run())
    assert page.startswith("<!DOCTYPE html>")
    for text in ("v1.34.1", "gpu.drafarm.dev", "drafarm (built-in)", "3 min 12 s", "38 tests", "FAILED"):
        assert text in page
    # matrix: allocation x selectors has 1 failure, 6 of 7 ran passed; sharing x partitions 2 skipped
    assert '<td class="c-fail" title="6 passed, 1 failed or errored, 0 skipped">1 ✗ · 6/7</td>' in page
    assert '<td class="c-pass" title="2 passed, 0 failed or errored, 2 skipped">2/2' in page
    assert "<th>conformance</th>" in page
    assert '<th class="col">timeslicing</th>' in page
    # failures: escaped text in collapsible details
    assert page.count('<details class="failure"') == 2
    assert "&lt;H100&gt;" in page and "<H100>" not in page
    assert "&lt;pending&gt;" in page
    # skipped with reasons
    assert "DRA feature gate DRAPartitionableDevices is off on the cluster (partitions)" in page
    # farm picture
    assert page.count("<svg") == 1
    assert "<title>gpu-3 (gpu)\nstate: shared\nclaims: share-2/timeslice-a, share-3/timeslice-b" in page
    assert "lab-cameras" in page and "network pool" in page
    # self-contained: no external references
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)
    assert "<link" not in page


def test_text_is_escaped_everywhere() -> None:
    evil = "<script>alert(1)</script>"
    run = RunReport(
        {"kubernetes_version": evil, "driver": evil, "extra_field": evil},
        [TestResult(f"suites/x/test_a.py::t[{evil}]", evil, evil, "failed", 1.0, diagnostics=evil)],
        {"nodes": [{"name": evil, "devices": [{"name": evil, "kind": evil, "state": evil, "claims": [evil]}]}]},
    )
    page = render_html(run)
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_farm_svg_is_well_formed_xml_with_a_tile_per_device() -> None:
    run = sample_run()
    assert run.farm is not None
    svg = farm_svg(run.farm)
    root = ET.fromstring(svg)
    ns = "{http://www.w3.org/2000/svg}"
    tiles = root.findall(f".//{ns}g[@class='dev']")
    assert len(tiles) == 23
    titles = [t.findtext(f"{ns}title") or "" for t in tiles]
    assert any(t.startswith("lab-cam-4 (camera)\nstate: unhealthy") for t in titles)


def test_empty_run_and_missing_farm() -> None:
    page = render_html(RunReport())
    assert "No tests ran." in page
    assert "No farm snapshot was recorded" in page
    assert "PASSED" in page


def test_rerender_from_results_json(tmp_path: Path) -> None:
    results = tmp_path / "results.json"
    results.write_text(json.dumps(sample_run().to_json()))
    out = subprocess.run(
        [sys.executable, "-m", "harness.report", str(results)], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip().endswith("report.html")
    assert "1 ✗ · 6/7" in (tmp_path / "report.html").read_text()


def test_counts_are_pills_not_a_fact_and_short_durations_in_ms() -> None:
    run = RunReport({"counts": {"passed": 1}, "duration_s": 0.25}, [TestResult("tests/test_a.py::t", "tests", "a")])
    page = render_html(run)
    assert "<span>Counts</span>" not in page
    assert "<b>250 ms</b>" in page


def test_setup_and_tests_are_shown_apart() -> None:
    """A first run's build must not count as test time (19 min of build for a 2.5 min suite)."""
    run = RunReport({"duration_s": 300.0, "build_s": 1000.0, "cluster_up_s": 60.0}, [], None)
    page = render_html(run)
    assert "<span>Setup</span><b>17 min 40 s</b>" in page
    assert "<span>Tests</span><b>4 min 00 s</b>" in page
    assert "Build s" not in page and "Cluster up s" not in page
