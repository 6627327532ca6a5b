"""The version matrix report: one row per test, one column per version, differing rows named."""

from __future__ import annotations

import json
from pathlib import Path

from harness.matrix import Matrix, write
from harness.scenario.loader import load_scenario
from harness.scenario.plan import run_plan

ROOT = Path(__file__).resolve().parents[2]


def _results(path: Path, outcomes: dict[str, str]) -> Path:
    path.mkdir(parents=True)
    tests = [{"nodeid": n, "outcome": o} for n, o in outcomes.items()]
    (path / "results.json").write_text(json.dumps({"tests": tests}))
    return path / "results.json"


def test_the_matrix_has_a_column_per_version_and_names_what_differs(tmp_path: Path) -> None:
    matrix = Matrix(["v1.34.4", "v1.36.3"])
    matrix.add("v1.34.4", _results(tmp_path / "a", {"t::same": "passed", "t::new": "skipped"}), 0)
    matrix.add("v1.36.3", _results(tmp_path / "b", {"t::same": "passed", "t::new": "failed"}), 1)
    assert matrix.outcomes["t::new"] == {"v1.34.4": "skipped", "v1.36.3": "failed"}
    assert matrix.differing() == ["t::new"]
    write(matrix, tmp_path / "report")
    data = json.loads((tmp_path / "report" / "matrix.json").read_text())
    assert data["versions"] == ["v1.34.4", "v1.36.3"] and data["exitCodes"] == {"v1.34.4": 0, "v1.36.3": 1}
    page = (tmp_path / "report" / "matrix.html").read_text()
    assert "<th>v1.34.4</th><th>v1.36.3</th>" in page
    assert '<tr class="differs"><td>t::new</td><td class="skipped">skipped</td><td class="failed">failed</td>' in page


def test_a_missing_results_file_leaves_the_column_empty(tmp_path: Path) -> None:
    matrix = Matrix(["v1.34.4"])
    matrix.add("v1.34.4", tmp_path / "nothing.json", 4)
    assert matrix.outcomes == {} and matrix.exit_codes == {"v1.34.4": 4}


def test_version_pairs_bracket_each_fix_and_each_version_comes_up_once() -> None:
    scenarios = [load_scenario(p) for p in sorted((ROOT / "scenarios").glob("*.yaml"))]
    plan = [(v, s.name) for v, s in run_plan(scenarios, (), "pair")]
    assert ("v1.34.3", "kubernetes-135901") in plan and ("v1.34.4", "kubernetes-135901") in plan
    assert ("v1.36.1", "kubernetes-138882") in plan and ("v1.36.3", "kubernetes-138882") in plan
    order = [v for v, _ in plan]
    assert order == sorted(order, key=lambda v: tuple(int(x) for x in v[1:].split(".")))
