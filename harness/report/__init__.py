"""drafarm's reports: results.json, a self-contained report.html and JUnit XML.

- pytest hooks: `harness.report.hooks` (load with `-p harness.report.hooks` or `pytest_plugins`).
- the harness tells the report about the run: `set_run_metadata(config, kubernetes_version=..., driver=...,
  profile=..., farm=...)` and `set_farm_snapshot(config, snapshot)`; both work on xdist workers too.
- `snapshot_from_cluster(slices, claims, health)` computes the farm snapshot from ResourceSlices and
  ResourceClaims of any driver; the format is documented in `harness.report.snapshot`.
- `python -m harness.report reports/results.json` re-renders report.html from a results file.
"""

from harness.report.farm_picture import farm_svg
from harness.report.html import render_html
from harness.report.metadata import set_farm_snapshot, set_run_metadata
from harness.report.results import ResultsCollector, RunReport, TestResult
from harness.report.snapshot import STATES, FarmSnapshot, snapshot_from_cluster

__all__ = [
    "STATES",
    "FarmSnapshot",
    "ResultsCollector",
    "RunReport",
    "TestResult",
    "farm_svg",
    "render_html",
    "set_farm_snapshot",
    "set_run_metadata",
    "snapshot_from_cluster",
]
